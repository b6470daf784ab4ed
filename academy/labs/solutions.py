"""Playing a lab's intended solution through the sandbox API, for the labs self-test.

A solution is a list of steps such as `{do: echo, node: "{PACS_AE}", device: WS}`; each `do` names a
step registered here, whose parameters are the rest of the mapping. Answers to knowledge checks are
steps too (`{do: answer, check: modality, value: CT}`).
"""
from __future__ import annotations

from typing import Callable

import sandbox

STEPS: dict[str, Callable] = {}


class SolutionError(Exception):
    pass


def step(name: str):
    def register(function):
        if name in STEPS:
            raise RuntimeError(f"solution step '{name}' is registered twice")
        STEPS[name] = function
        return function

    return register


def _devices(box, code):
    return box.devices(code)


@step("add_node")
def add_node(box, code, answers, *, ae_title, host, port, description=""):
    box.add_node(code, ae_title, host, int(port), description)


@step("remove_node")
def remove_node(box, code, answers, *, ae_title):
    box.remove_node(code, ae_title)


@step("echo")
def echo(box, code, answers, *, node, device="WS"):
    return _devices(box, code).echo(node, device=device)


@step("find")
def find(box, code, answers, *, node, level="STUDY", model="STUDY", device="WS", keys=None):
    return _devices(box, code).find(node, level=level, model=model, device=device, **(keys or {}))


def _study_keys(box, code, keys: dict) -> dict:
    """`study: first` or `study: {patient_id: X}` picks a Study Instance UID from the archive."""
    keys = dict(keys or {})
    wanted = keys.pop("study", None)
    if wanted is not None:
        studies = box.studies(code, patient_id=wanted.get("patient_id")) if isinstance(wanted, dict) else box.studies(code)
        if not studies:
            raise SolutionError(f"no study in the archive matches {wanted!r}")
        keys["StudyInstanceUID"] = studies[0].study_uid
    return keys


@step("move")
def move(box, code, answers, *, node, destination, level="STUDY", device="WS", keys=None):
    return _devices(box, code).move(node, destination, level=level, device=device, **_study_keys(box, code, keys))


@step("get")
def get(box, code, answers, *, node, level="STUDY", keys=None):
    return _devices(box, code).get(node, level=level, **_study_keys(box, code, keys))


@step("store")
def store(box, code, answers, *, node, modality="CT", device="CT", seed=0, images=2, **options):
    return _devices(box, code).store(node, modality=modality, device=device, seed=seed,
                                     images_per_series=images, **options)


@step("commit")
def commit(box, code, answers, *, node, device="CT", keys=None, wait=5.0):
    """Request storage commitment for a study and wait (a few seconds at most) for the report."""
    import time

    study = _study_keys(box, code, keys or {"study": "first"}).get("StudyInstanceUID")
    before = len(box.journal(code, kind="dimse.n-event-report"))
    box.devices(code).commit(node, study_uid=study, device=device)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and len(box.journal(code, kind="dimse.n-event-report")) == before:
        time.sleep(0.1)


@step("edit_patient")
def edit_patient(box, code, answers, *, patient_id, new_patient_id=None, **changes):
    """Correct demographics of `patient_id`; `new_patient_id` changes the ID itself."""
    if new_patient_id:
        changes["patient_id"] = new_patient_id
    box.edit_patient(code, patient_id, **changes)


@step("merge_patients")
def merge_patients(box, code, answers, *, source, target):
    box.merge_patients(code, source, target)


@step("move_series")
def move_series(box, code, answers, *, series_of, into):
    """Move the series of modality `series_of.modality` in the study described `series_of.study`
    into the study described `into`."""
    studies = {s.study_description.upper(): s for s in box.studies(code)}
    source, target = studies.get(series_of["study"].upper()), studies.get(into.upper())
    if source is None or target is None:
        raise SolutionError("the studies named in the solution are not in the archive")
    series = {i.series_uid for i in box.instances(code, study_uid=source.study_uid)
              if i.modality == series_of.get("modality", i.modality)}
    for series_uid in sorted(series):
        box.move_series(code, series_uid, target.study_uid)


@step("delete_study")
def delete_study(box, code, answers, *, description):
    for study in box.studies(code):
        if study.study_description.upper() == description.upper():
            box.delete_study(code, study.study_uid)


@step("clear_fault")
def clear_fault(box, code, answers, *, kind):
    box.clear_fault(code, kind)


@step("add_routing_rule")
def add_routing_rule(box, code, answers, *, destination_ae, modality="", calling_ae="", study_description=""):
    box.add_routing_rule(code, destination_ae, modality=modality, calling_ae=calling_ae,
                         study_description=study_description)


@step("run_forward_queue")
def run_forward_queue(box, code, answers):
    """What the sandbox's worker does every second; the self-test does not wait for it."""
    box.retry_forward_jobs(code)
    box.run_forward_queue(code)


@step("apply_retention")
def apply_retention(box, code, answers, *, older_than_days, action="flag"):
    box.apply_retention(code, older_than_days=int(older_than_days), action=action)


@step("send_hl7")
def send_hl7(box, code, answers, *, message=None, text=None, trigger="A04", patient=None, expect="AA", **fields):
    """Send an HL7 message: `text` as written, or built: message adt (trigger) or orm (placer, procedure...)."""
    if text is None:
        person = {"issuer": "ACADEMY_GH", **(patient or {})}
        if message == "adt":
            text = sandbox.build_adt(code, trigger, person, **fields)
        elif message == "orm":
            text = sandbox.build_orm(code, person, **fields)
        else:
            raise SolutionError("send_hl7 needs text, or message: adt | orm")
    ack = box.send_hl7(code, text.replace("\n", "\r"))
    if expect and ack.code != expect:
        raise SolutionError(f"send_hl7 expected {expect}, got {ack.code}: {ack.summary}")


@step("query_worklist")
def query_worklist(box, code, answers, *, device="CT", **keys):
    keys.setdefault("ScheduledStationAETitle", f"{code}_{device}")
    box.modality(code, device).query_worklist(**keys)


@step("perform_exam")
def perform_exam(box, code, answers, *, device="CT", accession_number=None, images=2):
    """The modality's whole scheduled workflow: worklist, MPPS in progress, images, MPPS completed."""
    result = box.modality(code, device).perform(accession_number=accession_number, images=images)
    if not result.ok:
        raise SolutionError(f"the scheduled workflow stopped: {result.steps[-1]}")


@step("answer")
def answer(box, code, answers, *, check, value):
    answers[check] = str(value)


def play(box: sandbox.Sandbox, code: str, steps: list[dict]) -> dict[str, str]:
    """Run every step; returns the knowledge answers the solution gives."""
    answers: dict[str, str] = {}
    for number, raw in enumerate(steps, start=1):
        params = dict(raw)
        name = params.pop("do", None)
        if name not in STEPS:
            raise SolutionError(f"step {number}: unknown step {name!r}; known: {', '.join(sorted(STEPS))}")
        try:
            STEPS[name](box, code, answers, **params)
        except TypeError as exc:
            raise SolutionError(f"step {number} ({name}): {exc}") from None
    return answers
