"""C-STORE SCP (PS3.4 B.2): check the header, write the bytes as received, index."""

from __future__ import annotations

import struct

from sandbox.archive import status as st
from sandbox.archive.attributes import InstanceAttributes, read_header
from sandbox.archive.context import AssociationContext
from sandbox.archive.ingest import Target, store_instance

PREAMBLE = b"\x00" * 128 + b"DICM"


IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.10.1517.1"
IMPLEMENTATION_VERSION_NAME = "PACSACADEMY_1"


def _element(group_elem: int, vr: bytes, value: bytes) -> bytes:
    """One explicit VR little endian element with a 2-byte length (PS3.5 7.1.2)."""
    return struct.pack("<HH2sH", 0x0002, group_elem, vr, len(value)) + value


def _pad(value: str, pad: bytes) -> bytes:
    raw = value.encode("ascii")
    return raw + pad if len(raw) % 2 else raw


def file_meta_bytes(sop_class: str, sop_instance: str, transfer_syntax: str,
                    source_ae: str) -> bytes:
    """Encoded File Meta Information (PS3.10 7.1), written by hand: it runs per image."""
    body = b"".join((
        # (0002,0001) OB: 2 reserved bytes and a 4-byte length (PS3.5 7.1.2)
        struct.pack("<HH2sHI", 0x0002, 0x0001, b"OB", 0, 2) + b"\x00\x01",
        _element(0x0002, b"UI", _pad(sop_class, b"\x00")),
        _element(0x0003, b"UI", _pad(sop_instance, b"\x00")),
        _element(0x0010, b"UI", _pad(transfer_syntax, b"\x00")),
        _element(0x0012, b"UI", _pad(IMPLEMENTATION_CLASS_UID, b"\x00")),
        _element(0x0013, b"SH", _pad(IMPLEMENTATION_VERSION_NAME, b" ")),
        _element(0x0016, b"AE", _pad(source_ae[:16], b" ")),
    ))
    return struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, len(body)) + body


def on_store(event, ctx: AssociationContext) -> int:
    req = event.request
    summary = {"sop_instance_uid": str(req.AffectedSOPInstanceUID or ""),
               "sop_class_uid": str(req.AffectedSOPClassUID or "")}
    if ctx.fault("store_out_of_resources") is not None:
        ctx.fault_fired("store_out_of_resources", "C-STORE answered A700", **summary)
        return _fail(ctx, st.OUT_OF_RESOURCES, "out of resources (fault)", summary)
    transfer_syntax = str(event.context.transfer_syntax)
    try:
        attrs = InstanceAttributes.from_dataset(read_header(req.DataSet, transfer_syntax))
    except Exception as exc:  # noqa: BLE001 - unparsable data: PS3.4 B.2.3 "Cannot understand"
        return _fail(ctx, st.CANNOT_UNDERSTAND, f"dataset cannot be parsed: {exc}", summary)
    problem = _mismatch(attrs, req, event.context)
    if problem:
        # PS3.4 B.2.3 Error A9xx: data set does not match SOP class
        return _fail(ctx, st.DATASET_DOES_NOT_MATCH_SOP_CLASS, problem, summary)
    chunks = [PREAMBLE, file_meta_bytes(attrs.sop_class_uid, attrs.sop_instance_uid,
                                        transfer_syntax, ctx.calling_ae),
              req.DataSet.getbuffer()]
    target = Target(ctx.partition.id, ctx.code, ctx.store, ctx.partition.replace_duplicates,
                    ctx.calling_ae, ctx.id, route=ctx.store == "archive")
    return store_instance(ctx.services.db, ctx.services.files, target, attrs, chunks,
                          transfer_syntax, summary_extra={"calling_ae": ctx.calling_ae},
                          cache=ctx.key_cache, rules=ctx.partition.routing_rules,
                          started=ctx.started)


def _mismatch(a: InstanceAttributes, req, context) -> str:
    if not a.sop_instance_uid:
        return "dataset has no SOP Instance UID (0008,0018)"
    if a.sop_instance_uid != str(req.AffectedSOPInstanceUID).strip():
        return "SOP Instance UID differs from the request's Affected SOP Instance UID"
    if a.sop_class_uid != str(req.AffectedSOPClassUID).strip() or \
            a.sop_class_uid != str(context.abstract_syntax):
        return (f"SOP Class UID {a.sop_class_uid or '(none)'} does not match the presentation "
                f"context's {context.abstract_syntax}")
    if not a.study_uid or not a.series_uid:
        return "dataset has no Study or Series Instance UID"
    return ""


def _fail(ctx: AssociationContext, status: int, why: str, summary: dict) -> int:
    ctx.record("dimse.c-store", f"C-STORE {summary['sop_instance_uid']} failed: {why}",
               status=status, reason=why, duration_ms=ctx.elapsed_ms(), **summary)
    return status
