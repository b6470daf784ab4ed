"""Server-side image rendering and header display for the image viewer console.

Pixel values go through the Modality LUT (Rescale Slope/Intercept, DICOM PS3.3 C.11.1) and then a VOI
window (PS3.3 C.11.2.1.2, the linear function) to 8 bits; MONOCHROME1 is inverted. Compressed
transfer syntaxes that no installed decoder handles are reported, not crashed on.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pydicom.uid
from PIL import Image

PRESETS = {  # name -> (center, width)
    "file": None, "soft-tissue": (40, 400), "lung": (-600, 1500), "bone": (400, 1800), "brain": (40, 80),
}


class ViewerError(Exception):
    pass


def render_png(path: Path, *, preset: str = "file", frame: int = 0) -> bytes:
    try:
        ds = pydicom.dcmread(path)
        pixels = ds.pixel_array
    except Exception as exc:  # pydicom raises many kinds for undecodable pixel data
        raise ViewerError(f"This image cannot be shown here: {exc}") from None
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames > 1:
        pixels = pixels[min(max(frame, 0), frames - 1)]
    if getattr(ds, "PhotometricInterpretation", "") in ("RGB", "YBR_FULL", "YBR_FULL_422"):
        image = Image.fromarray(pixels.astype(np.uint8), "RGB")
    else:
        values = pixels.astype(np.float64) * float(getattr(ds, "RescaleSlope", 1) or 1) \
            + float(getattr(ds, "RescaleIntercept", 0) or 0)
        center, width = _window(ds, values, preset)
        # PS3.3 C.11.2.1.2.1: linear VOI function
        scaled = ((values - (center - 0.5)) / max(width - 1, 1) + 0.5).clip(0, 1) * 255
        if getattr(ds, "PhotometricInterpretation", "") == "MONOCHROME1":
            scaled = 255 - scaled
        image = Image.fromarray(scaled.astype(np.uint8), "L")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _window(ds, values, preset: str) -> tuple[float, float]:
    if preset in PRESETS and PRESETS[preset]:
        return PRESETS[preset]
    center, width = getattr(ds, "WindowCenter", None), getattr(ds, "WindowWidth", None)
    if center is not None and width is not None:
        first = lambda v: float(v[0] if isinstance(v, pydicom.multival.MultiValue) else v)  # noqa: E731
        return first(center), first(width)
    low, high = float(values.min()), float(values.max())
    return (low + high) / 2, max(high - low, 1)


@dataclass
class HeaderLine:
    depth: int
    tag: str
    keyword: str
    vr: str
    value: str


def header(path: Path) -> list[HeaderLine]:
    """The file meta and dataset as indented lines, sequences expanded, pixel data summarised."""
    ds = pydicom.dcmread(path, stop_before_pixels=False)
    lines: list[HeaderLine] = []

    def walk(dataset, depth: int) -> None:
        for element in dataset:
            tag = f"({element.tag.group:04X},{element.tag.element:04X})"
            if element.VR == "SQ":
                lines.append(HeaderLine(depth, tag, element.keyword, "SQ", f"{len(element.value)} item(s)"))
                for item in element.value:
                    walk(item, depth + 1)
            elif element.tag == 0x7FE00010:
                lines.append(HeaderLine(depth, tag, element.keyword, element.VR, f"{len(element.value)} bytes"))
            elif element.VR == "UI" and element.value:
                # Name the well-known UIDs (transfer syntaxes, SOP classes) as PS3.6 Annex A does.
                uid = pydicom.uid.UID(str(element.value))
                value = f"{uid} ({uid.name})" if uid.name != str(uid) else str(uid)
                lines.append(HeaderLine(depth, tag, element.keyword, "UI", value))
            else:
                value = str(element.value) if element.VR not in ("OB", "OW", "UN") else f"{len(element.value or b'')} bytes"
                lines.append(HeaderLine(depth, tag, element.keyword or "(private)", element.VR, value[:200]))

    walk(ds.file_meta, 0)
    walk(ds, 0)
    return lines
