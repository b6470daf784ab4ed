"""The simulated RIS: HL7 v2 over MLLP, orders, Modality Worklist and MPPS (see the README's RIS section).

Importing this package registers the <CODE>_RIS role on the shared DICOM port
(sandbox/archive/roles.py lists it in ROLE_MODULES).
"""

from sandbox.ris import services  # noqa: F401  (registers the RIS role)
