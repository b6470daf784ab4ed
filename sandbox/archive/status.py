"""DIMSE status codes, named; handlers answer with these, never raw numbers.

Sources: PS3.7 Annex C (general statuses), PS3.4 B.2.3 (Storage), C.4.1.1.4
(C-FIND), C.4.2.1.5 (C-MOVE), C.4.3.1.4 (C-GET), J.3 (Storage Commitment).
"""

from __future__ import annotations

# PS3.7 C.1 / C.2: success and pending.
SUCCESS = 0x0000
PENDING = 0xFF00  # PS3.4 C.4.1.1.4: matches are continuing
PENDING_OPTIONAL_KEYS_UNSUPPORTED = 0xFF01  # PS3.4 C.4.1.1.4
CANCEL = 0xFE00  # PS3.7 C.3: matching/sub-operations terminated due to Cancel

# PS3.7 Annex C.5: general failure statuses (DIMSE-C and DIMSE-N).
PROCESSING_FAILURE = 0x0110
DUPLICATE_SOP_INSTANCE = 0x0111
NO_SUCH_OBJECT_INSTANCE = 0x0112  # also a Failure Reason in PS3.4 J.3.3.1.1
INVALID_ARGUMENT_VALUE = 0x0115
NO_SUCH_SOP_CLASS = 0x0118
CLASS_INSTANCE_CONFLICT = 0x0119  # also a Failure Reason in PS3.4 J.3.3.1.1
MISSING_ATTRIBUTE = 0x0120
SOP_CLASS_NOT_SUPPORTED = 0x0122
NO_SUCH_ACTION = 0x0123
NOT_AUTHORIZED = 0x0124

# PS3.7 C.5 / PS3.4 F.7.2 (MPPS N-CREATE, N-SET), used by the RIS (sandbox/ris/mpps.py), with 0x0112
# (PS3.7 C.5.9) and 0x0120 (PS3.7 C.5.13) above.
NO_SUCH_ATTRIBUTE = 0x0105  # PS3.7 C.5.2
INVALID_ATTRIBUTE_VALUE = 0x0106  # PS3.7 C.5.3
MISSING_ATTRIBUTE_VALUE = 0x0121  # PS3.7 C.5.14

# PS3.4 B.2.3 Storage.
OUT_OF_RESOURCES = 0xA700  # Refused: Out of Resources
DATASET_DOES_NOT_MATCH_SOP_CLASS = 0xA900  # Error (storage) / identifier mismatch (Q/R)
CANNOT_UNDERSTAND = 0xC000  # Error: Cannot understand
COERCION_OF_DATA_ELEMENTS = 0xB000  # Warning (storage)

# PS3.4 C.4.1.1.4 / C.4.2.1.5 / C.4.3.1.4 Query/Retrieve.
IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS = 0xA900
UNABLE_TO_PROCESS = 0xC000  # Failed: Unable to process (C000-CFFF)
UNABLE_TO_CALCULATE_MATCHES = 0xA701  # Refused: Out of resources - number of matches
UNABLE_TO_PERFORM_SUBOPERATIONS = 0xA702  # Refused: Out of resources - sub-operations
MOVE_DESTINATION_UNKNOWN = 0xA801  # Refused: Move Destination unknown
SUBOPERATIONS_COMPLETE_WITH_FAILURES = 0xB000  # Warning: one or more failures

NAMES = {
    SUCCESS: "Success",
    PENDING: "Pending",
    PENDING_OPTIONAL_KEYS_UNSUPPORTED: "Pending (optional keys not supported)",
    CANCEL: "Cancel",
    DUPLICATE_SOP_INSTANCE: "Duplicate SOP Instance",
    NO_SUCH_SOP_CLASS: "No such SOP Class",
    SOP_CLASS_NOT_SUPPORTED: "SOP Class not supported",
    NOT_AUTHORIZED: "Not authorized",
    PROCESSING_FAILURE: "Processing failure",
    NO_SUCH_OBJECT_INSTANCE: "No such object instance",
    CLASS_INSTANCE_CONFLICT: "Class-instance conflict",
    MISSING_ATTRIBUTE: "Missing attribute",
    NO_SUCH_ACTION: "No such action",
    INVALID_ARGUMENT_VALUE: "Invalid argument value",
    NO_SUCH_ATTRIBUTE: "No such attribute",
    INVALID_ATTRIBUTE_VALUE: "Invalid attribute value",
    MISSING_ATTRIBUTE_VALUE: "Missing attribute value",
    OUT_OF_RESOURCES: "Out of resources",
    DATASET_DOES_NOT_MATCH_SOP_CLASS: "Data set / identifier does not match SOP Class",
    CANNOT_UNDERSTAND: "Cannot understand / unable to process",
    COERCION_OF_DATA_ELEMENTS: "Warning (coercion / sub-operation failures)",
    UNABLE_TO_CALCULATE_MATCHES: "Out of resources: unable to calculate number of matches",
    UNABLE_TO_PERFORM_SUBOPERATIONS: "Out of resources: unable to perform sub-operations",
    MOVE_DESTINATION_UNKNOWN: "Move destination unknown",
}


def name(status: int | None) -> str:
    """A readable name for a status, falling back to its class (PS3.7 C)."""
    if status is None:
        return "No response"
    if status in NAMES:
        return NAMES[status]
    if 0xA700 <= status <= 0xA7FF:
        return "Out of resources"
    if 0xC000 <= status <= 0xCFFF:
        return "Unable to process"
    if 0xA900 <= status <= 0xA9FF:
        return "Does not match SOP Class"
    return f"Status 0x{status:04X}"


def is_success(status: int | None) -> bool:
    return status == SUCCESS


def is_failure(status: int | None) -> bool:
    """Neither success nor warning (PS3.7 C: warnings are B000-BFFF, 0107, 0116)."""
    if status is None:
        return True
    return not (status == SUCCESS or 0xB000 <= status <= 0xBFFF or status in (0x0107, 0x0116)
                or is_pending(status))


def is_pending(status: int | None) -> bool:
    return status in (PENDING, PENDING_OPTIONAL_KEYS_UNSUPPORTED)


# PS3.8 9.3.4 A-ASSOCIATE-RJ: (result, source, reason).
REJECT_CALLED_AE_NOT_RECOGNISED = (0x01, 0x01, 0x07)  # permanent, service-user, reason 7
REJECT_CALLING_AE_NOT_RECOGNISED = (0x01, 0x01, 0x03)  # permanent, service-user, reason 3
REJECT_NO_REASON = (0x01, 0x01, 0x01)  # permanent, service-user, no reason given
REJECT_LOCAL_LIMIT_EXCEEDED = (0x02, 0x03, 0x02)  # transient, service-provider (presentation)
