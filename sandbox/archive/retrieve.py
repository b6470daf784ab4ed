"""C-MOVE and C-GET SCP (PS3.4 C.4.2, C.4.3), Patient Root and Study Root.

Sub-operations read the stored file (no pixel decoding; pydicom reads elements
raw) and pynetdicom sends them. C-MOVE destinations resolve only through the
partition's node registry (or its own hosted <CODE>_WS) and pass the network
policy; the sub-association calls from <CODE>_PACS.
"""

from __future__ import annotations

from pydicom import dcmread
from pydicom import uid
from pydicom.uid import UID
from pynetdicom import build_context
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelGet as PATIENT_ROOT_GET,
    PatientRootQueryRetrieveInformationModelMove as PATIENT_ROOT_MOVE,
    StudyRootQueryRetrieveInformationModelGet as STUDY_ROOT_GET,
    StudyRootQueryRetrieveInformationModelMove as STUDY_ROOT_MOVE,
    Verification,
)

from sandbox.archive import matching
from sandbox.archive import status as st
from sandbox.archive.context import AssociationContext
from sandbox.archive.negotiation import use_outgoing_ae
from sandbox.archive.query import identifier_summary
from sandbox.netpolicy import DestinationRefused

MODELS = {str(PATIENT_ROOT_MOVE): "PATIENT", str(STUDY_ROOT_MOVE): "STUDY",
          str(PATIENT_ROOT_GET): "PATIENT", str(STUDY_ROOT_GET): "STUDY"}


UNCOMPRESSED = (uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian)


def sub_operation_contexts(rows) -> list:
    """Only the contexts the sub-operations need (fewer contexts, faster set-up).

    Stored data is sent as stored (pixels are never decoded): an uncompressed instance
    may go in any uncompressed syntax the destination picks (pynetdicom converts the
    encoding), a compressed one only in its own syntax.
    """
    by_class: dict[str, set[str]] = {}
    for r in rows:
        by_class.setdefault(r.sop_class_uid, set()).add(r.transfer_syntax)
    contexts = []
    for sop_class, syntaxes in sorted(by_class.items()):
        plain = [t for t in syntaxes if UID(t) in UNCOMPRESSED]
        if plain:
            contexts.append(build_context(sop_class, [UID(t) for t in dict.fromkeys(
                [*plain, *UNCOMPRESSED])]))
        contexts += [build_context(sop_class, [UID(t)]) for t in sorted(syntaxes)
                     if UID(t) not in UNCOMPRESSED]
    return contexts[:128]


def _select(event, ctx: AssociationContext):
    """(rows, keys, error status or None, reason)."""
    model = MODELS.get(str(event.request.AffectedSOPClassUID), "STUDY")
    try:
        identifier = event.identifier
        keys = identifier_summary(identifier)
        query = matching.parse(identifier, model)
        with ctx.services.db.read() as conn:
            rows = matching.instances(conn, ctx.partition.id, ctx.store, query)
        return rows, keys, None, ""
    except matching.QueryError as exc:
        return [], {}, exc.status, str(exc)
    except Exception as exc:  # noqa: BLE001 - PS3.4 C.4.2.1.5 unable to process
        return [], {}, st.UNABLE_TO_PROCESS, f"identifier cannot be processed: {exc}"


def _datasets(event, ctx, rows, service: str, keys: dict):
    for n, row in enumerate(rows):
        if event.is_cancelled:
            ctx.record(service, f"{service[6:].upper()} cancelled after {n} sub-operations",
                       status=st.CANCEL, identifier=keys, sent=n)
            yield st.CANCEL, None
            return
        try:
            ds = dcmread(ctx.services.files.path(row.path))
        except Exception as exc:  # noqa: BLE001 - counts as a failed sub-operation
            ctx.record("failure", f"cannot read stored {row.sop_instance_uid}: {exc}")
            ds = None
        yield st.PENDING, ds


def on_move(event, ctx: AssociationContext):
    destination = str(event.move_destination or "").strip()
    rows, keys, error, reason = _select(event, ctx)
    common = {"identifier": keys, "destination": destination}

    def refuse(why: str):
        # PS3.4 C.4.2.1.5: A801 Refused: Move Destination unknown
        ctx.record("dimse.c-move", f"C-MOVE to {destination} refused: {why}",
                   status=st.MOVE_DESTINATION_UNKNOWN, reason=why, **common)
        return None, None

    refused = ctx.fault("refuse_move_destination")
    if refused and refused["ae_title"] == destination:
        ctx.fault_fired("refuse_move_destination", f"C-MOVE to {destination} refused")
        yield refuse("destination refused (fault)")
        return
    node = ctx.resolve_node(destination)
    if node is None:
        yield refuse("not a registered node")
        return
    try:
        address = ctx.services.outgoing.address(node)
    except DestinationRefused as exc:
        yield refuse(str(exc))
        return
    # An identifier error still has to go through pynetdicom's sub-association first.
    contexts = sub_operation_contexts(rows) or [build_context(Verification)]
    kwargs = {"contexts": contexts, **ctx.services.outgoing.associate_kwargs()}
    use_outgoing_ae(event.assoc, ctx.services.outgoing.make_ae(ctx.called_ae))
    ctx.pending_final = ("dimse.c-move", f"C-MOVE to {destination}", common)
    yield address, node.port, kwargs
    if error is not None:
        ctx.record("dimse.c-move", f"C-MOVE refused: {reason}", status=error, reason=reason,
                   **common)
        ctx.pending_final = None
        yield 1
        yield error, None
        return
    yield len(rows)
    yield from _datasets(event, ctx, rows, "dimse.c-move", keys)


def on_get(event, ctx: AssociationContext):
    rows, keys, error, reason = _select(event, ctx)
    if error is not None:
        ctx.record("dimse.c-get", f"C-GET refused: {reason}", status=error, reason=reason)
        yield 1
        yield error, None
        return
    ctx.pending_final = ("dimse.c-get", "C-GET", {"identifier": keys})
    yield len(rows)
    yield from _datasets(event, ctx, rows, "dimse.c-get", keys)
