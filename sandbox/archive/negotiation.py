"""Per-partition association negotiation: the one place pynetdicom's internals are touched.

Written for pynetdicom >=3.0,<3.1 (pinned in pyproject.toml). pynetdicom checks AE
titles against one static list per server (`_negotiate_as_acceptor` in its
acse.py). Here the called AE title `<CODE>_<ROLE>` picks the partition and role,
the partition's node registry (read from the database now, so changes apply
without a restart) decides on the calling AE title, and the presentation
contexts are built for this association only from what the requestor proposed.

Rejections use PS3.8 9.3.4 A-ASSOCIATE-RJ reasons:
  called AE title not recognised  -> result 1 (permanent), source 1 (service-user), reason 7
  calling AE title not recognised -> result 1, source 1, reason 3
  too many associations           -> result 2 (transient), source 3 (provider, presentation), reason 2

Private pynetdicom attributes used: Association._server, Association._ae,
Association._accepted_cx/_rejected_cx (read), ACSE._negotiate_as_acceptor, and the
state machine's TRANSITION_TABLE/ACTIONS (see `_ignore_late_local_primitives`).
"""

from __future__ import annotations

import logging
import uuid

from pynetdicom import evt, fsm
from pynetdicom.acse import ACSE
from pynetdicom.presentation import PresentationContext

from sandbox import journal, partitions
from sandbox.archive import roles
from sandbox.archive import status as st
from sandbox.archive.context import AssociationContext, Services
from sandbox.codes import split_ae_title

log = logging.getLogger("sandbox.negotiation")

def _ignore_late_local_primitives() -> None:
    """Let a local answer that arrives after the association is gone be ignored, not kill the reactor.

    PS3.8 9.2.3 (Table 9-10): in Sta13 the association no longer exists and the provider only awaits the
    transport close; the table gives no action for a local primitive there. When a peer's bad PDU moves
    the machine to Sta13 while the sandbox is still answering (its A-ASSOCIATE-AC, a P-DATA, a release
    response), pynetdicom 3.0 raises InvalidEventError in its reactor thread (found by tests/fuzz). The
    answer is moot by then, so drop it and stay in Sta13; the close then completes as usual.
    """
    fsm.ACTIONS.setdefault("SBX-IGNORE", ("Ignore a local primitive: the association no longer exists",
                                          lambda dul: "Sta13", "Sta13"))
    for event in ("Evt1", "Evt7", "Evt8", "Evt9", "Evt11", "Evt14", "Evt15"):  # the local user primitives
        fsm.TRANSITION_TABLE.setdefault((event, "Sta13"), "SBX-IGNORE")


_ignore_late_local_primitives()

# Calling AE titles a partition always knows: its own simulated devices and roles.
OWN_SUFFIXES = ("PACS", "WS", "RIS", "CT", "MR")


class PartitionACSE(ACSE):
    """ACSE that asks the Gate before pynetdicom's own negotiation runs."""

    def _negotiate_as_acceptor(self) -> None:
        gate: Gate = self.assoc._server.gate
        rq = self.requestor.primitive
        try:
            rejection = gate.admit(self.assoc, rq)
        except Exception:  # noqa: BLE001 - a bug here must not kill the listener
            log.exception("association admission failed")
            journal.record(gate.services.db, None, "failure", "association admission failed")
            rejection = st.REJECT_NO_REASON
        if rejection:
            self.requestor.ae_title = rq.calling_ae_title
            self.assoc.is_rejected = True  # pynetdicom sets this only on the requestor side
            self.send_reject(*rejection)
            evt.trigger(self.assoc, evt.EVT_REJECTED, {})
            self.assoc.kill()
            return
        super()._negotiate_as_acceptor()
        gate.admitted(self.assoc)


def use_outgoing_ae(assoc, ae) -> None:
    """Make pynetdicom's C-MOVE sub-association call from `ae` (the partition's own title)."""
    assoc._ae = ae


class Gate:
    """Decides, per association, partition and role and which contexts to offer."""

    def __init__(self, services: Services, server) -> None:
        self.services = services
        self.server = server

    def admit(self, assoc, rq) -> tuple[int, int, int] | None:
        called = rq.called_ae_title.strip()
        calling = rq.calling_ae_title.strip()
        peer = (assoc.requestor.address, assoc.requestor.port)
        db = self.services.db
        parsed = split_ae_title(called)
        role = roles.get(parsed[1]) if parsed else None
        state = partitions.load_state(db, parsed[0]) if role else None
        code = state.code if state else None

        def reject(reason: tuple[int, int, int], why: str, **details):
            journal.record(
                db, code, "association.rejected", f"{calling} -> {called} rejected: {why}",
                calling_ae=calling, called_ae=called, peer=f"{peer[0]}:{peer[1]}",
                result=reason[0], source=reason[1], reason=reason[2], **details,
            )
            return reason

        active = [a for a in self.server.active_associations if a.is_acceptor]
        if len(active) > self.services.config.max_associations:
            return reject(st.REJECT_LOCAL_LIMIT_EXCEEDED,
                          f"too many associations ({len(active)} active, max "
                          f"{self.services.config.max_associations})")
        if state is None:
            return reject(st.REJECT_CALLED_AE_NOT_RECOGNISED, "called AE title not recognised")
        fault = state.faults.get("reject_calling_ae")
        if fault and fault["ae_title"] == calling:
            journal.record(db, code, "fault.fired", f"fault reject_calling_ae: {calling} rejected",
                           fault="reject_calling_ae", calling_ae=calling)
            return reject(st.REJECT_CALLING_AE_NOT_RECOGNISED,
                          "calling AE title not recognised (fault)")
        own = {f"{state.code}_{s}" for s in OWN_SUFFIXES}
        if not (state.accept_any_calling_ae or calling in state.nodes or calling in own):
            return reject(st.REJECT_CALLING_AE_NOT_RECOGNISED,
                          "calling AE title not recognised (not in the node registry)")

        allowed_ts = None
        if ts_fault := state.faults.get("transfer_syntaxes"):
            allowed_ts = set(ts_fault["accept"])
        contexts, narrowed = build_contexts(role, rq.presentation_context_definition_list,
                                            allowed_ts)
        assoc.acceptor.ae_title = called
        assoc.acceptor.supported_contexts = contexts
        assoc.sandbox = AssociationContext(
            id=str(uuid.uuid4()), partition=state, role=role, called_ae=called,
            calling_ae=calling, peer=peer, services=self.services,
        )
        if narrowed:
            assoc.sandbox.fault_fired("transfer_syntaxes",
                                      f"only {sorted(allowed_ts)} offered",
                                      removed=sorted(narrowed))
        return None

    def admitted(self, assoc) -> None:
        ctx: AssociationContext | None = getattr(assoc, "sandbox", None)
        if ctx is None:
            return
        if not assoc.is_established:  # pynetdicom's own checks rejected it
            ctx.record("association.rejected", f"{ctx.calling_ae} -> {ctx.called_ae} rejected")
            return
        proposed = {cx.context_id: [str(t) for t in cx.transfer_syntax]
                    for cx in assoc.requestor.primitive.presentation_context_definition_list}
        cxs = [
            {"id": cx.context_id, "abstract_syntax": str(cx.abstract_syntax),
             "name": cx.abstract_syntax.name,
             "proposed": proposed.get(cx.context_id, []),
             "transfer_syntaxes": [str(t) for t in cx.transfer_syntax],
             "result": _RESULT.get(cx.result, cx.result)}
            for cx in sorted([*assoc.accepted_contexts, *assoc.rejected_contexts],
                             key=lambda c: c.context_id)
        ]
        ctx.record(
            "association.accepted",
            f"{ctx.calling_ae} -> {ctx.called_ae} accepted "
            f"({len(assoc.accepted_contexts)} of {len(cxs)} contexts)",
            peer=f"{ctx.peer[0]}:{ctx.peer[1]}", contexts=cxs,
            max_pdu=assoc.requestor.maximum_length,
        )


# PS3.8 9.3.3.2 presentation context results
_RESULT = {0: "acceptance", 1: "user-rejection", 2: "provider-rejection",
           3: "abstract-syntax-not-supported", 4: "transfer-syntaxes-not-supported"}


def build_contexts(role: roles.Role, requested, allowed_ts: set | None):
    """Supported contexts for just the proposed abstract syntaxes (setup cost stays small)."""
    out: list[PresentationContext] = []
    narrowed: set[str] = set()
    seen: set[str] = set()
    for rq in requested:
        ab = str(rq.abstract_syntax)
        if ab in seen or ab not in role.contexts:
            continue
        seen.add(ab)
        # The requestor's order first, so data is kept as the sender prefers to send it;
        # then the rest, so an unmatched proposal gets "transfer syntaxes not supported".
        offered = role.contexts[ab]
        proposed = [str(t) for t in rq.transfer_syntax]
        syntaxes = [t for t in proposed if t in offered] + [t for t in offered if t not in proposed]
        if allowed_ts is not None:
            kept = [t for t in syntaxes if t in allowed_ts]
            narrowed |= {t for t in proposed if t in offered and t not in allowed_ts}
            syntaxes = kept
        if not syntaxes:
            continue
        cx = PresentationContext()
        cx.abstract_syntax = ab
        cx.transfer_syntax = list(syntaxes)
        if ab in role.scp_role_syntaxes:
            # accept a C-GET requestor's proposal to act as Storage SCP (PS3.7 D.3.3.4)
            cx.scu_role, cx.scp_role = False, True
        out.append(cx)
    return out, narrowed
