"""Filling a lab's {CODE}, {PACS_AE}, ... placeholders with the trainee's own partition."""
from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{([A-Z_]+)\}")
NAMES = ("CODE", "PACS_AE", "WS_AE", "RIS_AE", "CT_AE", "HOST", "DICOM_PORT", "HL7_PORT")


def values_for(code: str, host: str, dicom_port: int, hl7_port: int) -> dict[str, str]:
    return {"CODE": code, "PACS_AE": f"{code}_PACS", "WS_AE": f"{code}_WS", "RIS_AE": f"{code}_RIS",
            "CT_AE": f"{code}_CT", "HOST": host, "DICOM_PORT": str(dicom_port), "HL7_PORT": str(hl7_port)}


NUMERIC = ("DICOM_PORT", "HL7_PORT")


def fill(value, values: dict[str, str]):
    """Replace placeholders in every string inside `value` (dicts and lists too). A string that is
    just a port placeholder becomes the number, so `port: "{DICOM_PORT}"` is a port."""
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in NUMERIC and whole.group(1) in values:
            return int(values[whole.group(1)])
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    return value


def unknown(value) -> set[str]:
    """Placeholder names used in `value` that do not exist."""
    found: set[str] = set()
    if isinstance(value, str):
        found |= {name for name in PLACEHOLDER.findall(value) if name not in NAMES}
    elif isinstance(value, dict):
        for item in value.values():
            found |= unknown(item)
    elif isinstance(value, list):
        for item in value:
            found |= unknown(item)
    return found
