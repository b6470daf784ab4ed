"""Reading HL7 v2 messages (v2.3.1 to v2.5.1) through hl7apy, with errors a trainee can act on.

Why hl7apy and not python-hl7 (the two maintained pure-Python HL7 v2 libraries):
- hl7apy knows the standard's structures per version (2.1 to 2.8.2): it names every
  field and component (PID_3, CX_4), parses MSH-1/MSH-2 into the message's own
  delimiters, and builds messages (our ACKs) from the same definitions, including
  the version-correct ERR segment (ERR-1 in v2.3.1, ERR-2/3/4/8 in v2.5+).
- python-hl7 is smaller and faster and tolerant, but it is a generic splitter: it
  has no idea of versions, data types or which field is which, so the checks below
  (required fields, data types, MSH validation) would all be ours to hand-roll on
  its nested lists. Its MLLP client/server is asyncio-based; ours must be a plain
  threaded socket server like the DICOM listener anyway (timeouts, size limits,
  journaling per frame).
- hl7apy is already a dependency of the platform (pyproject.toml), python-hl7 is not.
Costs, measured: hl7apy parses one ORM of ~10 segments in about 4 ms (tolerant
validation, no group finding), which bounds the listener's rate (see
benchmarks/ris_mllp.py); and it keeps values escaped, so text for people is
unescaped in sandbox/ris/hl7text.py.

Segments are read in order (find_groups=False): the same code then reads ORM, OMI
and ORU in every version, and a segment out of place is reported by our own checks
with its segment name and position instead of being silently regrouped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.exceptions import HL7apyException, InvalidName
from hl7apy.parser import get_message_info, parse_message

from sandbox.ris import hl7text

# HL7 v2.5.1 Ch. 2 table 0357 "Message error condition codes" (ERR-3; ERR-1.4 in v2.3.1)
SEGMENT_SEQUENCE_ERROR = "100"
REQUIRED_FIELD_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT_CODE = "201"
UNSUPPORTED_PROCESSING_ID = "202"
UNSUPPORTED_VERSION_ID = "203"
UNKNOWN_KEY_IDENTIFIER = "204"
DUPLICATE_KEY_IDENTIFIER = "205"
APPLICATION_RECORD_LOCKED = "206"
APPLICATION_INTERNAL_ERROR = "207"

ERROR_TEXT = {
    SEGMENT_SEQUENCE_ERROR: "Segment sequence error",
    REQUIRED_FIELD_MISSING: "Required field missing",
    DATA_TYPE_ERROR: "Data type error",
    TABLE_VALUE_NOT_FOUND: "Table value not found",
    UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT_CODE: "Unsupported event code",
    UNSUPPORTED_PROCESSING_ID: "Unsupported processing id",
    UNSUPPORTED_VERSION_ID: "Unsupported version id",
    UNKNOWN_KEY_IDENTIFIER: "Unknown key identifier",
    DUPLICATE_KEY_IDENTIFIER: "Duplicate key identifier",
    APPLICATION_RECORD_LOCKED: "Application record locked",
    APPLICATION_INTERNAL_ERROR: "Application internal error",
}

# MSH-12: the versions this RIS speaks (the issue: v2.3.1 to v2.5.1)
SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1")
# MSH-11 processing ID (HL7 table 0103): production, training, debugging
PROCESSING_IDS = ("P", "T", "D")

_POSITION = re.compile(r"_(\d+)$")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")


@dataclass
class Hl7Error(Exception):
    """What was wrong, where: becomes MSA-1 AE/AR plus an ERR segment (HL7 v2.5.1 Ch. 2.14.5).

    ack "AR" (reject) is for messages the RIS will not process at all (MSH problems,
    unknown type, unknown receiving facility); "AE" (error) for messages it
    understood but could not apply (missing field, unknown patient, bad transition).
    """

    reason: str
    segment: str = ""
    sequence: int = 1
    field: int = 0
    component: int = 0
    code: str = APPLICATION_INTERNAL_ERROR
    ack: str = "AE"

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}" if self.location else self.reason

    @property
    def location(self) -> str:
        """ER7-style position for people, e.g. PID-3 or OBR-4.1."""
        if not self.segment:
            return ""
        where = self.segment
        if self.field:
            where += f"-{self.field}"
            if self.component:
                where += f".{self.component}"
        return where

    def as_dict(self) -> dict:
        return {"segment": self.segment, "sequence": self.sequence, "field": self.field,
                "component": self.component, "code": self.code,
                "code_text": ERROR_TEXT.get(self.code, ""), "reason": self.reason,
                "location": self.location, "ack": self.ack}


def _position(element) -> int:
    m = _POSITION.search(element.name or "")
    return int(m.group(1)) if m else 1


class SegmentView:
    """One segment: fields by number, repetitions, components, unescaped."""

    def __init__(self, segment, name: str, sequence: int, position: int) -> None:
        self.segment = segment
        self.name = name
        self.sequence = sequence  # 1 for the first PID, 2 for the second ...
        self.position = position  # place in the message (MSH = 1)

    def repetitions(self, number: int) -> list:
        wanted = f"{self.name}_{number}"
        return [f for f in self.segment.children if f.name == wanted]

    def er7(self, number: int, rep: int = 0) -> str:
        reps = self.repetitions(number)
        return reps[rep].to_er7() if rep < len(reps) else ""

    def get(self, number: int, component: int = 1, rep: int = 0, sub: int = 1) -> str:
        """The unescaped text at field `number`, component, subcomponent ('' if absent)."""
        reps = self.repetitions(number)
        if rep >= len(reps):
            return ""
        return _text(reps[rep], component, sub)

    def all(self, number: int, component: int = 1, sub: int = 1) -> list[str]:
        return [_text(r, component, sub) for r in self.repetitions(number)]

    def components(self, number: int, rep: int = 0) -> dict[int, str]:
        reps = self.repetitions(number)
        if rep >= len(reps):
            return {}
        return {_position(c): hl7text.unescape(c.to_er7()) for c in reps[rep].children}

    def error(self, number: int, reason: str, code: str = REQUIRED_FIELD_MISSING,
              component: int = 0, ack: str = "AE") -> Hl7Error:
        return Hl7Error(reason, self.name, self.sequence, number, component, code, ack)

    def require(self, number: int, what: str, component: int = 1) -> str:
        value = self.get(number, component).strip()
        if not value:
            raise self.error(number, f"{what} is required ({self.name}-{number} is empty)")
        return value


def _text(field, component: int, sub: int) -> str:
    children = [c for c in field.children]
    if not children:
        return hl7text.unescape(field.to_er7()) if component == 1 and sub == 1 else ""
    for comp in children:
        if _position(comp) == component:
            if sub == 1 and not _has_parts(comp):
                return hl7text.unescape(comp.to_er7())
            for part in comp.children:
                if _position(part) == sub:
                    return hl7text.unescape(part.to_er7())
            return hl7text.unescape(comp.to_er7()) if sub == 1 else ""
    return ""


def _has_parts(comp) -> bool:
    kids = getattr(comp, "children", None)
    return bool(kids) and any(_POSITION.search(k.name or "") for k in kids)


@dataclass
class Message:
    """A parsed message: MSH values at hand, segments in order."""

    text: str
    parsed: object
    segments: list[SegmentView]
    version: str
    message_type: str
    trigger: str
    control_id: str
    processing_id: str
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    extra: dict = field(default_factory=dict)

    @property
    def type_code(self) -> str:
        return f"{self.message_type}^{self.trigger}" if self.trigger else self.message_type

    def first(self, name: str) -> SegmentView | None:
        return next((s for s in self.segments if s.name == name), None)

    def all(self, name: str) -> list[SegmentView]:
        return [s for s in self.segments if s.name == name]

    def require(self, name: str, why: str = "") -> SegmentView:
        seg = self.first(name)
        if seg is None:
            raise Hl7Error(f"the {name} segment is missing{': ' + why if why else ''}",
                           name, 1, 0, 0, SEGMENT_SEQUENCE_ERROR)
        return seg


@dataclass(frozen=True)
class Header:
    """What could be read of MSH even when the rest fails (for the ACK's MSA-2 and the log)."""

    control_id: str = ""
    version: str = ""
    message_type: str = ""
    trigger: str = ""
    receiving_facility: str = ""
    sending_application: str = ""
    sending_facility: str = ""


def peek_header(text: str) -> Header:
    """Best effort MSH reading through hl7apy's own MSH splitter; never raises."""
    try:
        seg = hl7text.first_segment(text)
        if not seg.startswith("MSH") or len(seg) < 8:
            return Header()
        parsed = parse_message(seg, validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=False)
        msh = SegmentView(parsed.children[0], "MSH", 1, 1)
        return Header(msh.get(10), msh.get(12), msh.get(9, 1), msh.get(9, 2), msh.get(6),
                      msh.get(3), msh.get(4))
    except Exception:  # noqa: BLE001 - a header we cannot read is simply unknown
        return Header()


def parse(raw: str) -> Message:
    """Parse and check the MSH (HL7 v2.5.1 Ch. 2.9.2 accept validation); Hl7Error if unusable."""
    text = hl7text.normalise_segments(raw)
    if not text.startswith("MSH"):
        what = "is empty" if not text else f"begins with {text[:3]!r}"
        raise Hl7Error(f"this is not an HL7 v2 message: it {what}; a message must begin with an "
                       "MSH segment", "MSH", 1, 0, 0, SEGMENT_SEQUENCE_ERROR, "AR")
    separator, encoding = hl7text.declared_encoding(text)
    if separator != hl7text.FIELD_SEPARATOR:
        raise Hl7Error(f"MSH-1 field separator must be '|' (found {separator!r})", "MSH", 1, 1, 0,
                       DATA_TYPE_ERROR, "AR")
    if encoding != hl7text.ENCODING_CHARACTERS:
        raise Hl7Error(f"MSH-2 encoding characters must be '^~\\&' (component, repetition, "
                       f"escape, subcomponent); found {encoding!r}", "MSH", 1, 2, 0,
                       DATA_TYPE_ERROR, "AR")
    for number, (name, after) in enumerate(hl7text.segment_names(text), 1):
        if not _SEGMENT_ID.fullmatch(name) or after not in ("", hl7text.FIELD_SEPARATOR):
            seg = name + after
            raise Hl7Error(f"segment {number} ({seg[:12]!r}) does not start with a three-character "
                           "segment ID followed by '|'", seg[:3], 1, 0, 0,
                           SEGMENT_SEQUENCE_ERROR, "AR")
    try:
        _, _, version = get_message_info(text)
    except Exception:  # noqa: BLE001
        version = None
    if version not in SUPPORTED_VERSIONS:
        raise Hl7Error(f"MSH-12 version {version or '(empty)'} is not supported; this RIS speaks "
                       f"HL7 v{', v'.join(SUPPORTED_VERSIONS)}", "MSH", 1, 12, 0,
                       UNSUPPORTED_VERSION_ID, "AR")
    try:
        parsed = parse_message(text, validation_level=VALIDATION_LEVEL.TOLERANT,
                               find_groups=False)
    except InvalidName as exc:
        # hl7apy knows every standard segment of the version; Z-segments are always allowed
        name = str(exc).rsplit(" ", 1)[-1]
        raise Hl7Error(f"segment {name!r} is not an HL7 v{version} segment (local segments must "
                       "start with Z)", name[:3], 1, 0, 0, SEGMENT_SEQUENCE_ERROR, "AR") from None
    except HL7apyException as exc:
        raise Hl7Error(f"the message cannot be parsed: {exc}", "MSH", 1, 0, 0,
                       DATA_TYPE_ERROR, "AR") from None
    except Exception as exc:  # noqa: BLE001 - hl7apy can fail in unexpected ways
        raise Hl7Error(f"the message cannot be parsed ({type(exc).__name__}: {exc})", "MSH", 1,
                       0, 0, DATA_TYPE_ERROR, "AR") from None
    segments, seen = [], {}
    for position, seg in enumerate(parsed.children, 1):
        name = seg.name
        seen[name] = seen.get(name, 0) + 1
        segments.append(SegmentView(seg, name, seen[name], position))
    msh = segments[0]
    msg = Message(
        text=text, parsed=parsed, segments=segments, version=version,
        message_type=msh.get(9, 1).strip().upper(), trigger=msh.get(9, 2).strip().upper(),
        control_id=msh.get(10).strip(), processing_id=msh.get(11).strip().upper(),
        sending_application=msh.get(3), sending_facility=msh.get(4),
        receiving_application=msh.get(5), receiving_facility=msh.get(6).strip(),
    )
    if not msg.message_type:
        raise msh.error(9, "MSH-9 message type is required (e.g. ADT^A04, ORM^O01)",
                        ack="AR")
    if not msg.control_id:
        raise msh.error(10, "MSH-10 message control ID is required: the ACK echoes it in "
                        "MSA-2", ack="AR")
    if msg.processing_id[:1] not in PROCESSING_IDS or not msg.processing_id:
        raise msh.error(11, f"MSH-11 processing ID {msg.processing_id or '(empty)'} is not "
                        "P (production), T (training) or D (debugging)",
                        UNSUPPORTED_PROCESSING_ID, ack="AR")
    return msg


def hl7_datetime(value: str) -> tuple[str, str]:
    """HL7 TS/DTM (YYYYMMDD[HH[MM[SS[.S]]]][+/-ZZZZ]) to DICOM (DA, TM); ValueError if not."""
    value = value.strip()
    core = re.split(r"[+-]", value, maxsplit=1)[0]
    m = re.fullmatch(r"(\d{8})(\d{2,6}(?:\.\d{1,4})?)?", core)
    if not m:
        raise ValueError(f"{value!r} is not an HL7 date/time (YYYYMMDD[HHMM[SS]])")
    date, time = m.group(1), m.group(2) or ""
    if not (1 <= int(date[4:6]) <= 12 and 1 <= int(date[6:8]) <= 31):
        raise ValueError(f"{value!r} has no valid month and day")
    digits = time.split(".")[0]
    if len(digits) % 2 or (digits and (int(digits[:2]) > 23 or int(digits[2:4] or 0) > 59)):
        raise ValueError(f"{value!r} has no valid time of day")
    return date, time


def xpn_to_pn(seg: SegmentView, number: int, rep: int = 0) -> str:
    """HL7 XPN (family^given^middle^suffix^prefix) to DICOM PN (...^prefix^suffix)."""
    c = seg.components(number, rep)
    if not c:
        return ""
    parts = [c.get(1, ""), c.get(2, ""), c.get(3, ""), c.get(5, ""), c.get(4, "")]
    # XPN.1 is FN: the family name is its first subcomponent (surname&own surname...)
    parts[0] = seg.get(number, 1, rep, 1)
    while parts and not parts[-1]:
        parts.pop()
    return "^".join(parts)


def xcn_to_pn(seg: SegmentView, number: int, rep: int = 0) -> str:
    """HL7 XCN (id^family^given^middle^suffix^prefix) to DICOM PN."""
    c = seg.components(number, rep)
    if not c:
        return ""
    parts = [seg.get(number, 2, rep, 1), c.get(3, ""), c.get(4, ""), c.get(6, ""), c.get(5, "")]
    while parts and not parts[-1]:
        parts.pop()
    return "^".join(parts)


def fields(raw: str) -> list[dict]:
    """A message field by field, for a log that shows it parsed: one entry per segment with its
    numbered fields (each repetition's text, unescaped). A message that does not parse gives []."""
    try:
        message = parse(raw)
    except Hl7Error:
        return []
    out = []
    for seg in message.segments:
        numbers = sorted({_position(child) for child in seg.segment.children})
        out.append({"segment": seg.name, "sequence": seg.sequence,
                    "fields": [(number, [hl7text.unescape(r.to_er7()) for r in seg.repetitions(number)])
                               for number in numbers]})
    return out
