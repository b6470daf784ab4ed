"""Reading HL7 through hl7apy and answering with original-mode ACKs (no server needed)."""

from __future__ import annotations

import pytest

from sandbox.ris import acks, hl7text
from sandbox.ris.messages import Header, Hl7Error, parse, peek_header

ORM = ("MSH|^~\\&|HIS|GH|RIS|LAB1|20250101120000||ORM^O01|C1|P|2.3.1\r"
       "PID|1||123^^^OTHER^PI~456^^^ACADEMY_GH^MR||O'Brien\\T\\Sons^Ann^B||19700101|F\r"
       "ORC|NW|PL1\r"
       "OBR|1|PL1||CTHEAD^CT HEAD \\S\\ NECK\\F\\X^L\r")


def test_fields_components_repetitions_and_escapes_are_read():
    msg = parse(ORM)
    pid = msg.first("PID")
    assert pid.all(3) == ["123", "456"]
    assert [pid.get(3, 4, r) for r in (0, 1)] == ["OTHER", "ACADEMY_GH"]
    assert pid.get(5, 1) == "O'Brien&Sons" and pid.get(5, 2) == "Ann"
    assert msg.first("OBR").get(4, 2) == "CT HEAD ^ NECK|X"
    assert (msg.message_type, msg.trigger, msg.control_id, msg.version) == \
        ("ORM", "O01", "C1", "2.3.1")
    assert msg.receiving_facility == "LAB1"


@pytest.mark.parametrize("separator", ["\r", "\n", "\r\n"])
def test_any_common_segment_separator_is_accepted(separator):
    msg = parse(ORM.replace("\r", separator))
    assert [s.name for s in msg.segments] == ["MSH", "PID", "ORC", "OBR"]


@pytest.mark.parametrize("text, field, code", [
    ("hello world", 0, "100"),
    ("", 0, "100"),
    ("MSH#^~\\&#HIS", 1, "102"),
    ("MSH|^~&\\|HIS|GH|RIS|LAB1|2025||ADT^A04|1|P|2.5.1", 2, "102"),
    ("MSH|^~\\&|HIS|GH|RIS|LAB1|2025||ADT^A04|1|P|2.9", 12, "203"),
    ("MSH|^~\\&|HIS|GH|RIS|LAB1|2025||ADT^A04|1|P|", 12, "203"),
    ("MSH|^~\\&|HIS|GH|RIS|LAB1|2025||ADT^A04|1|X|2.5.1", 11, "202"),
    ("MSH|^~\\&|HIS|GH|RIS|LAB1|2025||ADT^A04||P|2.5.1", 10, "101"),
    ("MSH|^~\\&|HIS|GH|RIS|LAB1|2025|||1|P|2.5.1", 9, "101"),
    ("MSH|^~\\&|HIS|GH|RIS|LAB1|2025||ADT^A04|1|P|2.5.1\rP1D|x", 0, "100"),
])
def test_a_bad_header_is_rejected_with_where_and_why(text, field, code):
    with pytest.raises(Hl7Error) as exc:
        parse(text)
    assert exc.value.ack == "AR" and exc.value.field == field and exc.value.code == code
    assert exc.value.reason


def test_unescape_and_escape_round_trip():
    escaped = "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\.br\\g\\X41\\"
    assert hl7text.unescape(escaped) == "a|b^c&d~e\\f\ngA"
    for text in ("a|b^c&d~e\\f", "line1\nline2", "\\F\\ literal"):
        assert hl7text.unescape(hl7text.escape(text)) == text


def test_frame_reader_splits_joins_and_reports_junk_and_oversize():
    reader = hl7text.FrameReader(max_bytes=20)
    data = b"junk" + hl7text.frame("MSH|one") + hl7text.frame("MSH|two")[:5]
    events = list(reader.feed(data))
    assert events == [("junk", b"junk"), ("frame", b"MSH|one")]
    assert list(reader.feed(b"two\x1c\r")) == [("frame", b"MSH|two")]
    big = hl7text.frame("X" * 50)
    assert list(reader.feed(big[:30])) == [("oversized", 29)]
    assert list(reader.feed(big[30:] + hl7text.frame("MSH|3"))) == [("frame", b"MSH|3")]


def test_the_failing_field_can_be_highlighted():
    span = hl7text.field_span(ORM, "OBR", 1, 4)
    assert ORM[span[0]:span[1]] == "CTHEAD^CT HEAD \\S\\ NECK\\F\\X^L"
    span = hl7text.field_span(ORM, "MSH", 1, 12)
    assert ORM[span[0]:span[1]] == "2.3.1"
    span = hl7text.field_span(ORM.replace("\r", "\r\n"), "PID", 1, 3)
    assert ORM.replace("\r", "\r\n")[span[0]:span[1]].startswith("123^^^OTHER")


@pytest.mark.parametrize("version", ["2.3.1", "2.4", "2.5", "2.5.1"])
def test_an_ack_echoes_msh10_and_says_where_the_error_is(version):
    header = Header("C77", version, "ORM", "O01", "LAB1", "HIS", "GH")
    error = Hl7Error("OBR-4 is required", "OBR", 1, 4, 0, "101", "AE")
    text = acks.build_ack(header, "AE", error, sending_facility="LAB1")
    msg = parse(text)
    assert msg.version == version and msg.message_type == "ACK" and msg.trigger == "O01"
    msa, err = msg.first("MSA"), msg.first("ERR")
    assert (msa.get(1), msa.get(2)) == ("AE", "C77")
    assert (msg.receiving_application, msg.receiving_facility) == ("HIS", "GH")
    if version in ("2.5", "2.5.1"):
        assert err.er7(2) == "OBR^1^4" and err.get(3, 1) == "101" and err.get(4) == "E"
        assert "OBR-4 is required" in err.get(8)
    else:
        assert err.er7(1).startswith("OBR^1^4^101")
    assert "OBR-4" in msa.get(3)


def test_peek_header_never_raises():
    for text in ("", "MSH", "MSH|^~\\&|" + "|" * 30, "\x00\xff", "MSH|^~\\&|A|B|C|D|E|F|G^H|I"):
        assert isinstance(peek_header(text), Header)
