"""The one place that touches HL7 text below the parser: MLLP framing, segment separators, escapes.

Everything else reads messages through hl7apy (sandbox/ris/messages.py). What is
here is what hl7apy does not do:

- MLLP framing (HL7 v2.5.1 Ch. 2 / Appendix C "Lower Layer Protocols", MLLP release 1):
  <VT 0x0B> message <FS 0x1C><CR 0x0D>.
- Segment separators: HL7 v2.5.1 Ch. 2.5.1 says segments end with <CR> only; many
  interfaces send <CR><LF> or <LF>. They are accepted and normalised to <CR>.
- Escape sequences (HL7 v2.5.1 Ch. 2.7): hl7apy keeps field values escaped as
  received, so text meant for people is unescaped here (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\,
  \\.br\\, \\Xhh..\\, highlighting \\H\\ \\N\\ dropped), and free text we put into an ACK is
  escaped here.
"""

from __future__ import annotations

import re

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c"
CARRIAGE_RETURN = b"\x0d"
FRAME_END = END_BLOCK + CARRIAGE_RETURN

# HL7 v2.5.1 Ch. 2.5.4: the recommended (and here: required) delimiters
FIELD_SEPARATOR = "|"
ENCODING_CHARACTERS = "^~\\&"


def frame(text: str, encoding: str = "utf-8") -> bytes:
    """Wrap one message for MLLP."""
    return START_BLOCK + text.encode(encoding, errors="replace") + FRAME_END


class FrameReader:
    """Collects bytes from a stream and yields complete MLLP frames.

    Bytes before a start block are junk and reported as such; a frame larger than
    `max_bytes` is reported as oversized and skipped up to its end block.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.buffer = bytearray()
        self.oversized = False  # discarding the rest of a too-long frame

    def feed(self, data: bytes):
        """Yield ("frame", bytes) | ("junk", bytes) | ("oversized", size) events."""
        self.buffer += data
        while True:
            if self.oversized:
                end = self.buffer.find(FRAME_END)
                if end < 0:
                    keep = self.buffer[-1:] if self.buffer.endswith(END_BLOCK) else b""
                    self.buffer = bytearray(keep)
                    return
                del self.buffer[:end + 2]
                self.oversized = False
                continue
            start = self.buffer.find(START_BLOCK)
            if start < 0:
                if self.buffer:
                    junk, self.buffer = bytes(self.buffer), bytearray()
                    yield "junk", junk
                return
            if start > 0:
                junk = bytes(self.buffer[:start])
                del self.buffer[:start]
                yield "junk", junk
            end = self.buffer.find(FRAME_END, 1)
            if end < 0:
                if len(self.buffer) - 1 > self.max_bytes:
                    size = len(self.buffer) - 1
                    self.buffer = bytearray()
                    self.oversized = True
                    yield "oversized", size
                return
            body = bytes(self.buffer[1:end])
            del self.buffer[:end + 2]
            if len(body) > self.max_bytes:
                yield "oversized", len(body)
            else:
                yield "frame", body

    @property
    def pending(self) -> int:
        """Bytes of an unterminated frame still waiting for its end block."""
        return len(self.buffer)


def decode(body: bytes) -> str:
    """Message bytes to text: UTF-8 if valid, else ISO 8859-1 (MSH-18 is not trusted)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def storable(text: str) -> str:
    """Text any database keeps: NUL (PostgreSQL refuses it) becomes U+FFFD, lone surrogates '?'."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def normalise_segments(text: str) -> str:
    """<CR><LF> and <LF> to <CR>; drop empty segments and trailing separators."""
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    return "\r".join(s for s in text.split("\r") if s.strip())


_ESCAPES = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\", ".br": "\n", "H": "", "N": ""}
_ESCAPE_RE = re.compile(r"\\(F|S|T|R|E|\.br|H|N|X[0-9A-Fa-f]*|[^\\]{0,20})\\")


def unescape(value: str) -> str:
    """HL7 v2.5.1 Ch. 2.7.1-2.7.4 escape sequences to plain text (unknown ones kept)."""
    if "\\" not in value:
        return value

    def one(m: re.Match) -> str:
        seq = m.group(1)
        if seq in _ESCAPES:
            return _ESCAPES[seq]
        if seq.startswith("X") and len(seq) % 2 == 1:
            try:
                return bytes.fromhex(seq[1:]).decode("latin-1")
            except ValueError:
                return m.group(0)
        return m.group(0)

    return _ESCAPE_RE.sub(one, value)


def escape(value: str) -> str:
    """Plain text to an HL7 field value (Ch. 2.7.1): delimiters become escape sequences."""
    out = value.replace("\\", "\\E\\")
    for char, seq in (("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\")):
        out = out.replace(char, seq)
    return out.replace("\r\n", "\\.br\\").replace("\n", "\\.br\\").replace("\r", "\\.br\\")


_SEGMENT_END = re.compile(r"\r\n|\r|\n")


def field_span(text: str, segment: str, sequence: int = 1, field: int = 0) -> list[int] | None:
    """[start, end) of a field in `text`, for the protocol trace to highlight; None if absent.

    Field 0 highlights the whole segment. MSH counts MSH-1 as the field separator
    itself (HL7 v2.5.1 Ch. 2.14.9.1), so MSH-2 starts right after "MSH|".
    """
    if not segment:
        return None
    seen, offset = 0, 0
    for m in [*_SEGMENT_END.finditer(text), None]:
        end = m.start() if m else len(text)
        line = text[offset:end]
        if line[:3] == segment:
            seen += 1
            if seen == sequence:
                if not field:
                    return [offset, end]
                index = field - 1 if segment == "MSH" else field
                position, start = 0, offset + 3
                if segment == "MSH":
                    if field == 1:
                        return [offset + 3, offset + 4]
                    index, start = field - 2, offset + 4
                    position = 0
                else:
                    start = offset + 4
                    index = field - 1
                cursor = start
                while position < index:
                    nxt = text.find(FIELD_SEPARATOR, cursor, end)
                    if nxt < 0:
                        return [end, end]
                    cursor, position = nxt + 1, position + 1
                stop = text.find(FIELD_SEPARATOR, cursor, end)
                return [cursor, end if stop < 0 else stop]
        offset = m.end() if m else len(text)
    return None


def declared_encoding(text: str) -> tuple[str, str]:
    """(MSH-1, MSH-2) as the message declares them (for checking before parsing)."""
    sep = text[3:4]
    rest = text[4:]
    stop = rest.find(sep) if sep else -1
    return sep, rest if stop < 0 else rest[:stop]


def first_segment(text: str) -> str:
    """The first segment of a message (normally MSH), separators normalised."""
    return normalise_segments(text).split("\r", 1)[0]


def segment_names(text: str) -> list[tuple[str, str]]:
    """(first three characters, the character after them) of each segment of normalised text."""
    return [(s[:3], s[3:4]) for s in text.split("\r")]
