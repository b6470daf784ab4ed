"""Property-based tests: random and mutated messages never raise in the parser, the handler
pipeline or the listener, and every frame gets an ACK with a valid MSA-1."""

from __future__ import annotations

import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as s

from sandbox.ris import hl7text, inbound, samples
from sandbox.ris.messages import Hl7Error, parse, peek_header
from sandbox.ris.mllp import MllpClient
from tests.sandbox.ris.conftest import ack_of

SEEDS = [samples.adt("FZ1", "A04", samples.patient(1), visit="V1"),
         samples.adt("FZ1", "A40", samples.patient(2), prior_patient_id="P0"),
         samples.orm("FZ1", samples.patient(3), placer="P1", accession="A1"),
         samples.omi("FZ1", samples.patient(4), placer="P2"),
         samples.oru("FZ1", samples.patient(5), placer="P1")]
DELIMITERS = "|^~\\&\r\n\x0b\x1c"


@s.composite
def mutated(draw):
    """A real message with a few characters inserted, deleted or replaced."""
    text = draw(s.sampled_from(SEEDS))
    for _ in range(draw(s.integers(1, 6))):
        i = draw(s.integers(0, len(text)))
        op = draw(s.sampled_from(("insert", "delete", "replace", "truncate")))
        char = draw(s.one_of(s.sampled_from(DELIMITERS), s.characters(), s.text(max_size=4)))
        if op == "insert":
            text = text[:i] + char + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + 1:]
        elif op == "replace":
            text = text[:i] + char + text[i + 1:]
        else:
            text = text[:i]
    return text


messages = s.one_of(mutated(), s.text(max_size=300),
                    s.text(alphabet=DELIMITERS + "MSHPIDABC0123", max_size=200))


@settings(max_examples=300, deadline=None)
@given(messages)
def test_the_parser_either_parses_or_raises_hl7error(text):
    try:
        msg = parse(text)
        for seg in msg.segments:
            for n in range(1, 8):
                seg.get(n)
                seg.get(n, 2, 1, 2)
    except Hl7Error as exc:
        assert exc.ack in ("AE", "AR") and exc.reason
    peek_header(text)
    hl7text.field_span(text, "PID", 1, 3)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=messages)
def test_the_pipeline_always_answers_with_an_ack(sandbox, text):
    if not sandbox.list_partitions() or "FZ1" not in {p.code for p in
                                                      sandbox.list_partitions()}:
        sandbox.create_partition("FZ1")
    result = inbound.handle(sandbox, text.encode("utf-8", "surrogatepass"), peer="fuzz")
    assert result.code in ("AA", "AE", "AR")
    code, _, _ = ack_of(result.ack)
    assert code == result.code


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=s.lists(s.one_of(s.binary(max_size=200),
                               mutated().map(lambda t: hl7text.frame(t))), min_size=1,
                      max_size=4))
def test_the_listener_survives_any_bytes_and_keeps_serving(sandbox, chunks):
    if "FZ1" not in {p.code for p in sandbox.list_partitions()}:
        sandbox.create_partition("FZ1")
    with socket.create_connection(sandbox.hl7_address, timeout=5) as sock:
        for chunk in chunks:
            sock.sendall(chunk)
    # whatever that connection did, a new one is served normally (the fuzzed messages may
    # have changed FZ1's data, so the answer may be AE; it must be this message's ACK)
    with MllpClient(*sandbox.hl7_address, timeout=5) as client:
        code, control_id, _ = ack_of(client.send(SEEDS[0].replace("MSG", "ALIVE", 1)))
    assert code in ("AA", "AE") and control_id.startswith("ALIVE")
