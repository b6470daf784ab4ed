"""Association negotiation per partition: called/calling AE titles, contexts, limits, journal."""

from __future__ import annotations

import socket
import threading

from pydicom import uid
from pynetdicom import build_context
from pynetdicom.sop_class import CTImageStorage, Verification

from sandbox.archive import status as st
from tests.sandbox.conftest import associate, make_sandbox


def _reject_reason(assoc) -> tuple[int, int, int]:
    rj = assoc.acceptor.primitive
    return rj.result, rj.result_source, rj.diagnostic


def test_an_echo_to_a_partitions_archive_succeeds_and_is_journaled(sandbox, code):
    assoc = associate(sandbox, f"{code}_PACS")
    assert assoc.is_established
    assert assoc.send_c_echo().Status == st.SUCCESS
    assoc.release()
    kinds = [e.kind for e in sandbox.journal(code)]
    assert "association.accepted" in kinds and "dimse.c-echo" in kinds
    accepted = sandbox.journal(code, kind="association.accepted")[-1]
    assert accepted.details["calling_ae"] == "TESTSCU"
    assert accepted.details["contexts"][0]["abstract_syntax"] == Verification
    assert accepted.details["contexts"][0]["result"] == "acceptance"


def test_an_unknown_called_ae_title_is_rejected_with_reason_7(sandbox, code):
    assoc = associate(sandbox, "NOPE_PACS")
    assert assoc.is_rejected
    assert _reject_reason(assoc) == st.REJECT_CALLED_AE_NOT_RECOGNISED
    assert any("NOPE_PACS" in e.summary for e in sandbox.unattributed_journal(
        kind="association.rejected"))
    import time
    time.sleep(0.2)  # a rejection is not also journaled as a broken connection
    assert not [e for e in sandbox.unattributed_journal(kind="failure")
                if e.details.get("peer", "").endswith(f":{assoc.local['port']}")]


def test_an_unknown_role_suffix_is_rejected_as_an_unknown_called_ae(sandbox, code):
    assoc = associate(sandbox, f"{code}_XYZ")
    assert assoc.is_rejected and _reject_reason(assoc)[2] == 7


def test_an_unregistered_calling_ae_is_rejected_with_reason_3(sandbox, code):
    assoc = associate(sandbox, f"{code}_PACS", calling="STRANGER")
    assert assoc.is_rejected
    assert _reject_reason(assoc) == st.REJECT_CALLING_AE_NOT_RECOGNISED
    event = sandbox.journal(code, kind="association.rejected")[-1]
    assert event.details["reason"] == 3 and "node registry" in event.summary


def test_a_partition_set_to_accept_any_calling_ae_accepts_strangers(sandbox, code):
    sandbox.update_partition(code, accept_any_calling_ae=True)
    assoc = associate(sandbox, f"{code}_PACS", calling="STRANGER")
    assert assoc.is_established
    assoc.release()


def test_a_node_added_by_another_process_takes_effect_without_restart(sandbox, code, tmp_path):
    from sandbox import Sandbox

    remote = Sandbox(sandbox.config)  # same database and files, no listener of its own
    try:
        assert associate(sandbox, f"{code}_PACS", calling="NEWNODE").is_rejected
        remote.add_node(code, "NEWNODE", "127.0.0.1", 104)
        assoc = associate(sandbox, f"{code}_PACS", calling="NEWNODE")
        assert assoc.is_established
        assoc.release()
        remote.remove_node(code, "NEWNODE")
        assert associate(sandbox, f"{code}_PACS", calling="NEWNODE").is_rejected
    finally:
        remote.close()


def test_the_workstation_role_answers_on_the_same_port(sandbox, code):
    assoc = associate(sandbox, f"{code}_WS")
    assert assoc.is_established
    assert assoc.send_c_echo().Status == st.SUCCESS
    assoc.release()


def test_only_proposed_syntaxes_are_negotiated_and_unsupported_ones_rejected(sandbox, code):
    contexts = [build_context(CTImageStorage, [uid.JPEG2000Lossless, uid.ExplicitVRLittleEndian]),
                build_context("1.2.3.4.5.6", [uid.ImplicitVRLittleEndian])]
    assoc = associate(sandbox, f"{code}_PACS", contexts)
    assert assoc.is_established
    accepted = {str(c.abstract_syntax): str(c.transfer_syntax[0]) for c in assoc.accepted_contexts}
    assert accepted == {CTImageStorage: uid.JPEG2000Lossless}  # the requestor's choice, as received
    assert [str(c.abstract_syntax) for c in assoc.rejected_contexts] == ["1.2.3.4.5.6"]
    assoc.release()
    journaled = sandbox.journal(code, kind="association.accepted")[-1].details["contexts"]
    assert journaled[0]["proposed"] == [uid.JPEG2000Lossless, uid.ExplicitVRLittleEndian]
    assert journaled[0]["transfer_syntaxes"] == [uid.JPEG2000Lossless]
    assert journaled[1]["result"] == "abstract-syntax-not-supported"


def test_too_many_associations_are_rejected_transiently_and_journaled(tmp_path):
    with make_sandbox(tmp_path, max_associations=2) as sb:
        sb.create_partition("MAXA", accept_any_calling_ae=True)
        held = [associate(sb, "MAXA_PACS") for _ in range(2)]
        assert all(a.is_established for a in held)
        extra = associate(sb, "MAXA_PACS")
        assert extra.is_rejected
        assert _reject_reason(extra) == st.REJECT_LOCAL_LIMIT_EXCEEDED
        for a in held:
            a.release()
        import time
        deadline = time.time() + 3  # the rejection is transient: a retry gets in
        again = associate(sb, "MAXA_PACS")
        while not again.is_established and time.time() < deadline:
            time.sleep(0.1)
            again = associate(sb, "MAXA_PACS")
        assert again.is_established
        again.release()
        assert sb.journal("MAXA", kind="association.rejected")


def test_listening_and_accepted_sockets_have_tcp_nodelay(sandbox, code):
    server = sandbox._listener.server
    assert server.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    seen = []
    assoc = associate(sandbox, f"{code}_PACS")
    for a in server.active_associations:
        seen.append(a.dul.socket.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    assoc.release()
    assert seen and all(seen)


def test_many_partitions_share_one_listener_concurrently(sandbox):
    codes = [f"C{n}" for n in range(6)]
    for c in codes:
        sandbox.create_partition(c, accept_any_calling_ae=True)
    results = []

    def echo(c):
        a = associate(sandbox, f"{c}_PACS")
        results.append(a.is_established and a.send_c_echo().Status == 0)
        a.release()

    threads = [threading.Thread(target=echo, args=(c,)) for c in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * len(codes)
