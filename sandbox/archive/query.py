"""C-FIND SCP for Patient Root and Study Root (PS3.4 C.4.1)."""

from __future__ import annotations

from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind as PATIENT_ROOT_FIND,
    StudyRootQueryRetrieveInformationModelFind as STUDY_ROOT_FIND,
)

from sandbox.archive import matching
from sandbox.archive import status as st
from sandbox.archive.context import AssociationContext

MODELS = {str(PATIENT_ROOT_FIND): "PATIENT", str(STUDY_ROOT_FIND): "STUDY"}


def identifier_summary(identifier) -> dict:
    """The non-empty keys of an identifier, for the journal."""
    out = {}
    for elem in identifier or ():
        if elem.keyword and elem.VR != "SQ" and elem.value not in (None, ""):
            out[elem.keyword] = str(elem.value)[:80]
    return out


def on_find(event, ctx: AssociationContext):
    model = MODELS.get(str(event.request.AffectedSOPClassUID), "STUDY")
    try:
        identifier = event.identifier
    except Exception as exc:  # noqa: BLE001 - PS3.4 C.4.1.1.4 unable to process
        ctx.record("dimse.c-find", f"C-FIND identifier cannot be decoded: {exc}",
                   status=st.UNABLE_TO_PROCESS)
        yield st.UNABLE_TO_PROCESS, None
        return
    keys = identifier_summary(identifier)
    try:
        query = matching.parse(identifier, model)
        with ctx.services.db.read() as conn:
            rows = list(matching.find(conn, ctx.partition.id, ctx.store, query))
    except matching.QueryError as exc:
        ctx.record("dimse.c-find", f"C-FIND refused: {exc}", status=exc.status,
                   identifier=keys, model=model, reason=str(exc), duration_ms=ctx.elapsed_ms())
        yield exc.status, None
        return
    sent = 0
    for row in rows:
        if event.is_cancelled:
            ctx.record("dimse.c-find", f"C-FIND cancelled after {sent} matches", status=st.CANCEL,
                       identifier=keys, level=query.level, matches=sent,
                       duration_ms=ctx.elapsed_ms())
            yield st.CANCEL, None
            return
        yield st.PENDING, matching.response(row, query, identifier, f"{ctx.code}_PACS"
                                            if ctx.store == "archive" else ctx.called_ae)
        sent += 1
    ctx.record("dimse.c-find", f"C-FIND {query.level} {keys or 'universal'}: {sent} matches",
               status=st.SUCCESS, identifier=keys, level=query.level, model=model,
               matches=sent, duration_ms=ctx.elapsed_ms())
