"""Registers the archive's roles: <CODE>_PACS (the archive) and <CODE>_WS (the workstation).

Storage contexts accept the uncompressed syntaxes, Deflate and the JPEG, JPEG-LS,
JPEG 2000 and RLE syntaxes as received (the bytes are stored, never decoded).
Contexts are built per association from what the requestor proposes (see
negotiation.py), so this list costs nothing at association set-up.
"""

from __future__ import annotations

from pydicom import uid
from pynetdicom import evt
from pynetdicom.presentation import AllStoragePresentationContexts
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StorageCommitmentPushModel,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from sandbox.archive import status as st
from sandbox.archive import commitment, echo, query, retrieve, storage
from sandbox.archive.roles import Role, register

UNCOMPRESSED = (uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian)
STORAGE_SYNTAXES = (
    *UNCOMPRESSED, uid.DeflatedExplicitVRLittleEndian, uid.ExplicitVRBigEndian,
    uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLossless, uid.JPEGLosslessSV1,
    uid.JPEGLSLossless, uid.JPEGLSNearLossless, uid.JPEG2000Lossless, uid.JPEG2000,
    uid.RLELossless,
)
STORAGE_CLASSES = tuple(str(cx.abstract_syntax) for cx in AllStoragePresentationContexts)
FIND = (PatientRootQueryRetrieveInformationModelFind, StudyRootQueryRetrieveInformationModelFind)
RETRIEVE = (PatientRootQueryRetrieveInformationModelMove,
            StudyRootQueryRetrieveInformationModelMove,
            PatientRootQueryRetrieveInformationModelGet, StudyRootQueryRetrieveInformationModelGet)


def _contexts(*groups: tuple[tuple, tuple]) -> dict[str, tuple[str, ...]]:
    return {str(a): tuple(str(t) for t in syntaxes) for classes, syntaxes in groups
            for a in classes}


ARCHIVE = Role(
    suffix="PACS",
    store="archive",
    contexts=_contexts(
        ((Verification,), UNCOMPRESSED),
        (STORAGE_CLASSES, STORAGE_SYNTAXES),
        (FIND + RETRIEVE, UNCOMPRESSED),
        ((StorageCommitmentPushModel,), UNCOMPRESSED),
    ),
    handlers={
        evt.EVT_C_ECHO: echo.on_echo,
        evt.EVT_C_STORE: storage.on_store,
        evt.EVT_C_FIND: query.on_find,
        evt.EVT_C_MOVE: retrieve.on_move,
        evt.EVT_C_GET: retrieve.on_get,
        evt.EVT_N_ACTION: commitment.on_action,
    },
    scp_role_syntaxes=frozenset(STORAGE_CLASSES),
)

WORKSTATION = Role(
    suffix="WS",
    store="workstation",
    contexts=_contexts(
        ((Verification,), UNCOMPRESSED),
        (STORAGE_CLASSES, STORAGE_SYNTAXES),
        (FIND, UNCOMPRESSED),
    ),
    handlers={
        evt.EVT_C_ECHO: echo.on_echo,
        evt.EVT_C_STORE: storage.on_store,
        evt.EVT_C_FIND: query.on_find,
    },
)



def on_commitment_report(event, ctx) -> tuple[int, None]:
    """A simulated modality receives the archive's storage commitment result (PS3.4 J.3.3,
    N-EVENT-REPORT event type 1 all committed, 2 some failed): until then it must keep its copies."""
    info = event.event_information
    committed = len(getattr(info, "ReferencedSOPSequence", None) or [])
    failed = len(getattr(info, "FailedSOPSequence", None) or [])
    ctx.record("commitment.report-received",
               f"{ctx.called_ae} received the commitment report: {committed} committed, {failed} failed",
               status=st.SUCCESS, event_type=event.request.EventTypeID, committed=committed, failed=failed,
               transaction_uid=str(getattr(info, "TransactionUID", "")))
    return st.SUCCESS, None


def _modality(suffix: str) -> Role:
    """<CODE>_CT and <CODE>_MR listen too: for the archive's storage commitment reports, which arrive
    on a new association where the archive takes the SCP role (PS3.4 J.3.3, role selection)."""
    return Role(
        suffix=suffix,
        contexts=_contexts(((Verification,), UNCOMPRESSED), ((StorageCommitmentPushModel,), UNCOMPRESSED)),
        handlers={evt.EVT_C_ECHO: echo.on_echo, evt.EVT_N_EVENT_REPORT: on_commitment_report},
        scp_role_syntaxes=frozenset({str(StorageCommitmentPushModel)}),
    )


register(ARCHIVE)
register(WORKSTATION)
register(_modality("CT"))
register(_modality("MR"))
