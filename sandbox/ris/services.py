"""Registers the RIS role: <CODE>_RIS answers Verification, Modality Worklist and MPPS.

On the archive's shared DICOM port (sandbox/archive/roles.py): the called AE title
<CODE>_RIS picks the partition and this role; the node registry rules for the
calling AE title are the archive's (negotiation.py).
"""

from __future__ import annotations

from pydicom import uid
from pynetdicom import evt
from pynetdicom.sop_class import (
    ModalityPerformedProcedureStep, ModalityWorklistInformationFind, Verification,
)

from sandbox.archive import echo
from sandbox.archive.roles import Role, register
from sandbox.ris import mpps, worklist

SYNTAXES = (str(uid.ExplicitVRLittleEndian), str(uid.ImplicitVRLittleEndian))

RIS = Role(
    suffix="RIS",
    contexts={str(a): SYNTAXES for a in (Verification, ModalityWorklistInformationFind,
                                         ModalityPerformedProcedureStep)},
    handlers={
        evt.EVT_C_ECHO: echo.on_echo,
        evt.EVT_C_FIND: worklist.on_find,
        evt.EVT_N_CREATE: mpps.on_create,
        evt.EVT_N_SET: mpps.on_set,
    },
)

register(RIS)
