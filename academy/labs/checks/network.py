"""Checks that read the journal of DICOM traffic: associations and DIMSE operations.

Statuses follow DICOM PS3.7 Annex C: 0x0000 is success; anything else the trainee must fix.
"""
from __future__ import annotations

from typing import Literal

from academy.labs.context import CheckContext
from academy.labs.registry import Outcome, Params, check

SUCCESS = 0x0000  # PS3.7 C.1.1


class Between(Params):
    calling_ae: str = ""
    called_ae: str = ""


def _last(events):
    return events[-1] if events else None


@check("association_accepted", Between)
def association_accepted(ctx: CheckContext, p: Between) -> Outcome:
    """An association between the given AE titles was accepted."""
    event = _last(ctx.find_events("association.accepted", calling_ae=p.calling_ae, called_ae=p.called_ae))
    if event:
        return Outcome(True, f"{event.details.get('calling_ae')} associated with {event.details.get('called_ae')}.", event.id)
    rejected = _last(ctx.find_events("association.rejected", calling_ae=p.calling_ae, called_ae=p.called_ae))
    if rejected:
        return Outcome(False, f"The association was rejected: {rejected.summary}", rejected.id)
    return Outcome(False, "No association between these AE titles has reached the archive yet.")


class Rejected(Between):
    reason: Literal["calling-ae", "called-ae", "any"] = "any"


# PS3.8 9.3.4, A-ASSOCIATE-RJ source 1 (service-user): reason 3 calling, 7 called AE title not recognised
REJECT_REASONS = {"calling-ae": 3, "called-ae": 7}


@check("association_rejected", Rejected)
def association_rejected(ctx: CheckContext, p: Rejected) -> Outcome:
    """An association between the given AE titles was rejected (optionally for a given reason)."""
    events = ctx.find_events("association.rejected", calling_ae=p.calling_ae, called_ae=p.called_ae)
    if p.reason != "any":
        events = [e for e in events if e.details.get("reason") == REJECT_REASONS[p.reason]]
    event = _last(events)
    if event:
        return Outcome(True, f"Rejected as expected: {event.summary}", event.id)
    return Outcome(False, "No matching rejected association in the journal.")


@check("echo_performed", Between)
def echo_performed(ctx: CheckContext, p: Between) -> Outcome:
    """A C-ECHO between the given AE titles succeeded."""
    events = ctx.find_events("dimse.c-echo", calling_ae=p.calling_ae, called_ae=p.called_ae)
    good = _last([e for e in events if e.status == SUCCESS])
    if good:
        return Outcome(True, f"C-ECHO from {good.details.get('calling_ae')} succeeded.", good.id)
    rejected = _last(ctx.find_events("association.rejected", calling_ae=p.calling_ae, called_ae=p.called_ae))
    if rejected:
        return Outcome(False, f"No successful C-ECHO: the association was rejected ({rejected.summary}).", rejected.id)
    return Outcome(False, "No successful C-ECHO between these AE titles yet.")


class Find(Between):
    level: Literal["PATIENT", "STUDY", "SERIES", "IMAGE", ""] = ""
    keys: list[str] = []        # attribute keywords the identifier must have carried with a value
    min_matches: int = 1


@check("find_performed", Find)
def find_performed(ctx: CheckContext, p: Find) -> Outcome:
    """A C-FIND at the given level, with given keys, found matches."""
    events = [e for e in ctx.find_events("dimse.c-find", calling_ae=p.calling_ae, called_ae=p.called_ae)
              if e.status == SUCCESS and (not p.level or e.details.get("level") == p.level)]
    with_keys = [e for e in events if all((e.details.get("identifier") or {}).get(k) not in (None, "", "*")
                                          for k in p.keys)]
    good = _last([e for e in with_keys if (e.details.get("matches") or 0) >= p.min_matches])
    if good:
        return Outcome(True, f"Your query found {good.details.get('matches')} match(es).", good.id)
    if with_keys:
        return Outcome(False, "Your query ran but found nothing: check the matching keys and wildcards.", with_keys[-1].id)
    if events:
        return Outcome(False, f"Your query did not use {', '.join(p.keys)} as a matching key.", events[-1].id)
    return Outcome(False, f"No successful C-FIND{' at ' + p.level + ' level' if p.level else ''} yet.")


class Get(Between):
    min_completed: int = 1


class Move(Get):
    destination: str = ""


def _retrieval(ctx: CheckContext, kind: str, p: Get, **match) -> Outcome:
    events = ctx.find_events(kind, calling_ae=p.calling_ae, called_ae=p.called_ae, **match)
    good = _last([e for e in events if e.status == SUCCESS and (e.details.get("completed") or 0) >= p.min_completed])
    if good:
        return Outcome(True, f"{good.details.get('completed')} instance(s) retrieved.", good.id)
    last = _last(events)
    if last:
        return Outcome(False, f"The retrieval did not complete: {last.summary}", last.id)
    return Outcome(False, "No retrieval yet.")


@check("move_completed", Move)
def move_completed(ctx: CheckContext, p: Move) -> Outcome:
    """A C-MOVE to the given destination completed its sub-operations."""
    return _retrieval(ctx, "dimse.c-move", p, destination=p.destination)


@check("get_completed", Get)
def get_completed(ctx: CheckContext, p: Get) -> Outcome:
    """A C-GET completed its sub-operations."""
    return _retrieval(ctx, "dimse.c-get", p)


class Commitment(Params):
    calling_ae: str = ""


@check("commitment_confirmed", Commitment)
def commitment_confirmed(ctx: CheckContext, p: Commitment) -> Outcome:
    """Storage commitment was requested (N-ACTION) and confirmed (N-EVENT-REPORT, nothing failed)."""
    requests = ctx.find_events("dimse.n-action", calling_ae=p.calling_ae)
    if not requests:
        return Outcome(False, "No storage commitment request (N-ACTION) has reached the archive.")
    reports = [e for e in ctx.find_events("dimse.n-event-report") if e.status == SUCCESS]
    confirmed = _last([e for e in reports if not e.details.get("failed")])
    if confirmed:
        return Outcome(True, "The archive confirmed that it has committed every instance.", confirmed.id)
    if reports:
        return Outcome(False, f"The commitment report lists failures: {reports[-1].summary}", reports[-1].id)
    return Outcome(False, "The commitment was requested but no report was delivered: is the modality's node "
                          "registered with the right port?", requests[-1].id)
