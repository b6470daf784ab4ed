"""Lab scenarios: the YAML `scenario` mapping a lab passes straight to `Sandbox.apply_scenario`.

Schema (every section optional; unknown keys are errors):

    settings:                       # partition settings
      accept_any_calling_ae: false
      replace_duplicates: true
    nodes:                          # node registry entries
      - {ae_title: VIEWER, host: 127.0.0.1, port: 11113, description: "trainee's viewer"}
    patients:                       # named patients studies can refer to
      - {key: p1, seed: 7}          # synthetic demographics for a seed, or give them:
      - {key: p2, patient_id: "PAT002", name: "DOE^JANE", birth_date: "19700101", sex: F}
    studies:
      - {patient: p1, modality: CT, seed: 1, series: 1, images: 3,
         description: "CT HEAD", accession: "A1001", date: "20240105", store: archive}
      - {import: /path/to/folder, store: archive}
    faults:                         # kind -> params (sandbox/faults.py)
      store_out_of_resources: {}
      misset_node: {ae_title: VIEWER, port: 11199}
    routing:
      - {destination_ae: VIEWER, modality: CT}

Validation happens before anything changes; a bad scenario raises ScenarioError
naming the path of the problem (e.g. "studies[1].images").
"""

from __future__ import annotations

from pathlib import Path

from sandbox import faults as fault_kinds
from sandbox import journal
from sandbox.codes import validate_ae_title, validate_code

_SECTIONS = {"settings", "nodes", "patients", "studies", "faults", "routing", "ris"}
_SETTINGS = {"accept_any_calling_ae", "replace_duplicates"}
_NODE = {"ae_title", "host", "port", "description"}
_PATIENT = {"key", "seed", "patient_id", "name", "birth_date", "sex"}
_STUDY = {"patient", "modality", "seed", "series", "images", "description", "accession",
          "date", "store", "rows", "columns", "import"}
_ROUTE = {"destination_ae", "modality", "calling_ae", "study_description"}


class ScenarioError(ValueError):
    """A scenario that does not fit the schema; the message names where and why."""


def _keys(where: str, item, allowed: set) -> dict:
    if not isinstance(item, dict):
        raise ScenarioError(f"{where}: expected a mapping, got {type(item).__name__}")
    if unknown := set(item) - allowed:
        raise ScenarioError(f"{where}: unknown key(s) {sorted(unknown)}; allowed {sorted(allowed)}")
    return item


def _list(where: str, value) -> list:
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: expected a list")
    return value


def _int(where: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ScenarioError(f"{where}: expected an integer {lo}-{hi}, got {value!r}")
    return value


def validate(scenario) -> dict:
    """Check the whole scenario; returns it normalised. Raises ScenarioError."""
    from sandbox import synth

    scenario = _keys("scenario", scenario or {}, _SECTIONS)
    for k, v in _keys("settings", scenario.get("settings", {}), _SETTINGS).items():
        if not isinstance(v, bool):
            raise ScenarioError(f"settings.{k}: expected true or false")
    for i, node in enumerate(_list("nodes", scenario.get("nodes", []))):
        node = _keys(f"nodes[{i}]", node, _NODE)
        for req in ("ae_title", "host", "port"):
            if req not in node:
                raise ScenarioError(f"nodes[{i}]: missing {req}")
        try:
            validate_ae_title(node["ae_title"])
        except ValueError as exc:
            raise ScenarioError(f"nodes[{i}].ae_title: {exc}") from None
        _int(f"nodes[{i}].port", node["port"], 1, 65535)
    keys = set()
    for i, p in enumerate(_list("patients", scenario.get("patients", []))):
        p = _keys(f"patients[{i}]", p, _PATIENT)
        if "key" not in p:
            raise ScenarioError(f"patients[{i}]: missing key")
        if "seed" not in p and "patient_id" not in p:
            raise ScenarioError(f"patients[{i}]: give a seed or a patient_id")
        keys.add(p["key"])
    modalities = {m.upper() for m in getattr(synth, "MODALITIES", ())}
    for i, s in enumerate(_list("studies", scenario.get("studies", []))):
        s = _keys(f"studies[{i}]", s, _STUDY)
        if s.get("store", "archive") not in ("archive", "workstation"):
            raise ScenarioError(f"studies[{i}].store: archive or workstation")
        if "import" in s:
            if not isinstance(s["import"], str) or not Path(s["import"]).is_dir():
                raise ScenarioError(f"studies[{i}].import: {s['import']!r} is not a directory")
            continue
        if s.get("patient") is not None and s["patient"] not in keys:
            raise ScenarioError(f"studies[{i}].patient: no patient with key {s['patient']!r}")
        if modalities and str(s.get("modality", "CT")).upper() not in modalities:
            raise ScenarioError(f"studies[{i}].modality: one of {sorted(modalities)}")
        _int(f"studies[{i}].series", s.get("series", 1), 1, 20)
        _int(f"studies[{i}].images", s.get("images", 3), 1, 500)
        _int(f"studies[{i}].seed", s.get("seed", 0), 0, 2**31)
    faults = _keys("faults", scenario.get("faults", {}), set(fault_kinds.KINDS))
    for kind, params in faults.items():
        try:
            fault_kinds.validate(kind, params or {})
        except ValueError as exc:
            raise ScenarioError(f"faults.{kind}: {exc}") from None
    for i, r in enumerate(_list("routing", scenario.get("routing", []))):
        r = _keys(f"routing[{i}]", r, _ROUTE)
        if "destination_ae" not in r:
            raise ScenarioError(f"routing[{i}]: missing destination_ae")
    if "ris" in scenario:  # the RIS's section: sandbox/ris/scenario.py
        from sandbox.ris import scenario as ris_scenario

        ris_scenario.validate(scenario["ris"], ScenarioError)
    return scenario


def apply(sb, code: str, scenario) -> dict:
    """Validate, then apply section by section; returns what was created."""
    validate_code(code)
    scenario = validate(scenario)
    from sandbox import synth

    if settings := scenario.get("settings"):
        sb.update_partition(code, **settings)
    for node in scenario.get("nodes", []):
        sb.add_node(code, node["ae_title"], node["host"], node["port"],
                    node.get("description", ""))
    patients = {}
    for p in scenario.get("patients", []):
        base = synth.generate_patient(p["seed"]) if "seed" in p else {}
        given = {kw: p[k] for k, kw in (("patient_id", "PatientID"), ("name", "PatientName"),
                                        ("birth_date", "PatientBirthDate"), ("sex", "PatientSex"))
                 if k in p}
        patients[p["key"]] = {**base, **given}
    study_uids, imported = [], 0
    for i, s in enumerate(scenario.get("studies", [])):
        store = s.get("store", "archive")
        if "import" in s:
            imported += sb.import_folder(code, s["import"], store=store)["imported"]
            continue
        options = {k2: s[k] for k, k2 in (("description", "study_description"),
                                          ("accession", "accession_number"),
                                          ("date", "study_date"), ("rows", "rows"),
                                          ("columns", "columns")) if k in s}
        study_uids += sb.generate(
            code, studies=1, seed=s.get("seed", i), modality=s.get("modality", "CT"),
            series_count=s.get("series", 1), images_per_series=s.get("images", 3),
            store=store, patient=patients.get(s.get("patient")), **options)
    ris_summary = {}
    if "ris" in scenario:  # before the faults: a lab's set-up messages meet a working RIS
        from sandbox.ris import scenario as ris_scenario

        ris_summary = ris_scenario.apply(sb, code, scenario["ris"], ScenarioError)
    for kind, params in scenario.get("faults", {}).items():
        sb.set_fault(code, kind, **(params or {}))
    for r in scenario.get("routing", []):
        sb.add_routing_rule(code, r["destination_ae"], modality=r.get("modality", ""),
                            calling_ae=r.get("calling_ae", ""),
                            study_description=r.get("study_description", ""))
    summary = {**ris_summary, "studies": study_uids, "imported": imported,
               "nodes": len(scenario.get("nodes", [])), "faults": sorted(scenario.get("faults", {}))}
    journal.record(sb.db, code, "scenario.applied", "scenario applied", **summary)
    return summary
