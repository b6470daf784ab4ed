"""Checks that read the state of the trainee's archive: studies, nodes, patients, faults."""
from __future__ import annotations

from typing import Literal

from academy.labs.context import CheckContext
from academy.labs.registry import Outcome, Params, check

STORES = Literal["archive", "workstation"]


class StudyStored(Params):
    store: STORES = "archive"
    patient_id: str = ""
    accession_number: str = ""
    modality: str = ""
    study_description: str = ""
    min_instances: int = 1


def _matching_studies(ctx: CheckContext, p: StudyStored):
    studies = ctx.box.studies(ctx.code, store=p.store)
    return [s for s in studies
            if (not p.patient_id or s.patient_id == p.patient_id)
            and (not p.accession_number or s.accession_number == p.accession_number)
            and (not p.modality or p.modality in s.modalities)
            and (not p.study_description or s.study_description.strip().upper() == p.study_description.strip().upper())]


def _study_outcome(ctx: CheckContext, p: StudyStored) -> Outcome:
    studies = _matching_studies(ctx, p)
    full = [s for s in studies if s.instance_count >= p.min_instances]
    where = "at the workstation" if p.store == "workstation" else "in the archive"
    if full:
        return Outcome(True, f"The study is {where} with {full[0].instance_count} instance(s).")
    if studies:
        return Outcome(False, f"The study is {where} but has only {studies[0].instance_count} of "
                              f"{p.min_instances} instance(s).")
    return Outcome(False, f"No study with those attributes is {where} yet.")


@check("study_stored", StudyStored)
def study_stored(ctx: CheckContext, p: StudyStored) -> Outcome:
    """A study with the expected attributes is stored (in the archive or at the workstation)."""
    return _study_outcome(ctx, p)


@check("study_at_workstation", StudyStored)
def study_at_workstation(ctx: CheckContext, p: StudyStored) -> Outcome:
    """The expected study arrived at the reading workstation (after a C-MOVE or auto-routing)."""
    return _study_outcome(ctx, p.model_copy(update={"store": "workstation"}))


class NodeRegistered(Params):
    ae_title: str
    host: str = ""
    port: int | None = None


@check("node_registered", NodeRegistered)
def node_registered(ctx: CheckContext, p: NodeRegistered) -> Outcome:
    """A node is in the partition's registry with the right host and port."""
    node = next((n for n in ctx.box.list_nodes(ctx.code) if n.ae_title.upper() == p.ae_title.upper()), None)
    if node is None:
        return Outcome(False, f"{p.ae_title} is not in the node registry.")
    if p.host and node.host != p.host:
        return Outcome(False, f"{p.ae_title} is registered, but with host {node.host} instead of the right one.")
    if p.port is not None and node.port != p.port:
        return Outcome(False, f"{p.ae_title} is registered, but with port {node.port}: check the port.")
    return Outcome(True, f"{p.ae_title} is registered at {node.host}:{node.port}.")


class AttributeEquals(Params):
    patient_id: str = ""
    study_description: str = ""   # select the study by description when there are several
    attribute: Literal["patient_id", "patient_name", "accession_number", "study_description"]
    value: str


@check("attribute_equals", AttributeEquals)
def attribute_equals(ctx: CheckContext, p: AttributeEquals) -> Outcome:
    """A study-level attribute has the expected (corrected) value."""
    studies = ctx.box.studies(ctx.code, patient_id=p.patient_id or None)
    if p.study_description:
        studies = [s for s in studies if s.study_description.upper() == p.study_description.upper()]
    if not studies:
        return Outcome(False, "The study to correct is not in the archive (under that patient ID).")
    wanted = p.value.strip().upper()
    if any(str(getattr(s, p.attribute)).strip().upper() == wanted for s in studies):
        return Outcome(True, f"{p.attribute.replace('_', ' ').capitalize()} is now right.")
    shown = getattr(studies[0], p.attribute)
    return Outcome(False, f"{p.attribute.replace('_', ' ').capitalize()} is still '{shown}'.")


class AttributeChanged(Params):
    action: Literal["edit-patient", "merge-patients", "move-series", "delete-study"] = "edit-patient"


@check("admin_action_done", AttributeChanged)
def admin_action_done(ctx: CheckContext, p: AttributeChanged) -> Outcome:
    """An administrator's correction of the given kind was made (journaled with before and after)."""
    events = ctx.find_events(f"admin.{p.action}")
    if events:
        return Outcome(True, f"Done: {events[-1].summary}", events[-1].id)
    return Outcome(False, f"No {p.action.replace('-', ' ')} has been made yet.")


class Merged(Params):
    source_patient_id: str
    target_patient_id: str


@check("patients_merged", Merged)
def patients_merged(ctx: CheckContext, p: Merged) -> Outcome:
    """The duplicate patient's studies now belong to the surviving patient, and none remain under the old ID."""
    left = ctx.box.studies(ctx.code, patient_id=p.source_patient_id)
    moved = ctx.box.studies(ctx.code, patient_id=p.target_patient_id)
    if left:
        return Outcome(False, f"{len(left)} study(ies) still belong to {p.source_patient_id}.")
    if not moved:
        return Outcome(False, f"No study belongs to {p.target_patient_id}: was the merge made the wrong way round?")
    return Outcome(True, f"All studies are under {p.target_patient_id}.")


class SeriesMoved(Params):
    modality: str = ""
    target_study_description: str = ""
    target_patient_id: str = ""


@check("series_moved", SeriesMoved)
def series_moved(ctx: CheckContext, p: SeriesMoved) -> Outcome:
    """A misfiled series now sits in the right study (by description) or under the right patient."""
    events = ctx.find_events("admin.move-series")
    if not events:
        return Outcome(False, "No series has been moved yet.")
    for study in ctx.box.studies(ctx.code):
        if p.target_study_description and study.study_description.upper() != p.target_study_description.upper():
            continue
        if p.target_patient_id and study.patient_id != p.target_patient_id:
            continue
        if not p.modality or p.modality in study.modalities:
            return Outcome(True, "The series is in the right study now.", events[-1].id)
    return Outcome(False, "A series was moved, but not into the right study.", events[-1].id)


class FaultCleared(Params):
    kind: str


@check("fault_cleared", FaultCleared)
def fault_cleared(ctx: CheckContext, p: FaultCleared) -> Outcome:
    """The misconfiguration the scenario planted is gone."""
    if any(f.kind == p.kind for f in ctx.box.list_faults(ctx.code)):
        return Outcome(False, "The problem is still there.")
    return Outcome(True, "Fixed.")


class Retention(Params):
    older_than_days: int
    action: Literal["flag", "delete"] = "flag"


@check("retention_applied", Retention)
def retention_applied(ctx: CheckContext, p: Retention) -> Outcome:
    """Every archive study older than the period is flagged (or deleted), and no newer one is."""
    from datetime import datetime, timedelta, timezone

    cutoff = (datetime.now(timezone.utc) - timedelta(days=p.older_than_days)).strftime("%Y%m%d")
    studies = ctx.box.studies(ctx.code)
    old = [s for s in studies if s.study_date and s.study_date < cutoff]
    new = [s for s in studies if not (s.study_date and s.study_date < cutoff)]
    if p.action == "delete":
        if old:
            return Outcome(False, f"{len(old)} study(ies) older than {p.older_than_days} days are still in the archive.")
        if not new:
            return Outcome(False, "Newer studies were deleted too: the rule went too far.")
        return Outcome(True, "Only the studies past the retention period are gone.")
    if any(not s.retention_flagged for s in old):
        return Outcome(False, "Some studies past the retention period are not flagged.")
    if any(s.retention_flagged for s in new):
        return Outcome(False, "Studies still inside the retention period are flagged.")
    return Outcome(True, "Exactly the studies past the retention period are flagged.")


class RoutingRulePresent(Params):
    destination_ae: str
    modality: str = ""


@check("routing_rule_present", RoutingRulePresent)
def routing_rule_present(ctx: CheckContext, p: RoutingRulePresent) -> Outcome:
    """An auto-forward rule sends images (of the modality, if given) to the destination."""
    rules = [r for r in ctx.box.routing_rules(ctx.code) if r.destination_ae.upper() == p.destination_ae.upper()]
    if not rules:
        return Outcome(False, f"No routing rule forwards to {p.destination_ae}.")
    if p.modality and not any(r.modality in ("", p.modality) for r in rules):
        return Outcome(False, f"The rule to {p.destination_ae} does not cover {p.modality} images.")
    return Outcome(True, f"Images are forwarded to {p.destination_ae}.")


class StudySelector(Params):
    accession_number: str = ""
    study_description: str = ""
    patient_id: str = ""


def _selected(ctx: CheckContext, p: StudySelector):
    return [s for s in ctx.box.studies(ctx.code)
            if (not p.accession_number or s.accession_number == p.accession_number)
            and (not p.study_description or s.study_description.upper() == p.study_description.upper())
            and (not p.patient_id or s.patient_id == p.patient_id)]


def _admin_actions(ctx: CheckContext, *kinds: str):
    return [e for kind in kinds for e in ctx.find_events(kind)]


@check("study_absent", StudySelector)
def study_absent(ctx: CheckContext, p: StudySelector) -> Outcome:
    """The study that had to go (by accession, description or patient) is no longer in the archive,
    and it was removed by an administrator's action, not missing from the start."""
    if _selected(ctx, p):
        return Outcome(False, "That study is still in the archive.")
    removals = _admin_actions(ctx, "admin.delete-study", "admin.merge-patients")
    if not removals:
        return Outcome(False, "Nothing has been removed yet.")
    return Outcome(True, "That study is gone from the archive.", removals[-1].id)


@check("study_kept", StudySelector)
def study_kept(ctx: CheckContext, p: StudySelector) -> Outcome:
    """A study that must stay is still in the archive after the trainee's clean-up (some administrative
    action must have happened, so doing nothing does not pass)."""
    actions = _admin_actions(ctx, "admin.delete-study", "admin.merge-patients", "admin.edit-patient",
                             "admin.move-series", "retention.flag", "retention.delete")
    if not actions:
        return Outcome(False, "Nothing has been cleaned up yet.")
    if not _selected(ctx, p):
        return Outcome(False, "A study that had to stay is gone.", actions[-1].id)
    return Outcome(True, "The studies that must stay are still there.")
