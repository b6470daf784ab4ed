"""Synthetic HL7 messages for labs, tests and the benchmark (invented patients only).

Built with hl7apy from plain values, so every sample is well-formed for its
version; `patient(seed)` reuses sandbox.synth's invented demographics.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message

from sandbox.ris.hl7text import escape

_ids = itertools.count(1)


def patient(seed: int) -> dict:
    from sandbox import synth

    p = synth.generate_patient(seed)
    return {"patient_id": p["PatientID"], "issuer": p["IssuerOfPatientID"],
            "name": str(p["PatientName"]), "birth_date": p["PatientBirthDate"],
            "sex": p["PatientSex"]}


def _msh(msg: Message, code: str, type_: str, control_id: str | None) -> None:
    msh = msg.msh
    msh.msh_3 = "ACADEMY_HIS"
    msh.msh_4 = "ACADEMY_GH"
    msh.msh_5 = "SANDBOX_RIS"
    msh.msh_6 = code
    msh.msh_9 = type_
    msh.msh_10 = control_id or f"MSG{next(_ids):08d}"
    msh.msh_11 = "P"


def _pid(msg: Message, p: dict, extra_ids: tuple = ()) -> None:
    pid = msg.add_segment("PID")
    pid.pid_1 = "1"
    pid.pid_3 = f"{escape(p['patient_id'])}^^^{escape(p.get('issuer', 'ACADEMY_GH'))}^MR"
    for i, a in extra_ids:  # PID-3 repetitions (HL7 v2.5.1 Ch. 2.5.5 "~")
        pid.add_field("PID_3").value = f"{escape(i)}^^^{escape(a)}^MR"
    pid.pid_5 = "^".join(escape(x) for x in p["name"].split("^"))
    if p.get("birth_date"):
        pid.pid_7 = p["birth_date"]
    if p.get("sex"):
        pid.pid_8 = p["sex"]


def _pv1(msg: Message, visit: str | None, patient_class: str = "O") -> None:
    pv1 = msg.add_segment("PV1")
    pv1.pv1_1 = "1"
    pv1.pv1_2 = patient_class
    pv1.pv1_3 = "RAD^R1^1"
    pv1.pv1_8 = "D100^Achterberg^Ruth"
    if visit:
        pv1.pv1_19 = escape(visit)


def adt(code: str, trigger: str, p: dict, *, visit: str | None = None,
        prior_patient_id: str | None = None, version: str = "2.5.1",
        control_id: str | None = None, extra_ids: tuple = ()) -> str:
    """ADT^A01/A04/A05/A08/A11/A40."""
    msg = Message("ADT_A01", version=version, validation_level=VALIDATION_LEVEL.TOLERANT)
    structure = {"A40": "ADT_A39", "A11": "ADT_A09", "A08": "ADT_A01", "A05": "ADT_A05",
                 "A04": "ADT_A01"}.get(trigger, "ADT_A01")
    _msh(msg, code, f"ADT^{trigger}^{structure}" if version >= "2.4" else f"ADT^{trigger}",
         control_id)
    msg.msh.msh_12 = version
    evn = msg.add_segment("EVN")
    evn.evn_2 = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    _pid(msg, p, extra_ids)
    if trigger == "A40":
        mrg = msg.add_segment("MRG")
        mrg.mrg_1 = f"{escape(prior_patient_id or '')}^^^{escape(p.get('issuer', 'ACADEMY_GH'))}^MR"
    else:
        _pv1(msg, visit)
    return msg.to_er7()


def orm(code: str, p: dict, *, placer: str, control: str = "NW", procedure: str = "CTHEAD",
        description: str = "CT HEAD", accession: str = "", modality: str = "",
        start: str | None = None, visit: str | None = None, status: str = "",
        filler: str = "", version: str = "2.3.1", control_id: str | None = None) -> str:
    """ORM^O01 with one ORC/OBR; ORC-7.4 and OBR-27.4 carry the start (v2.3.1 TQ)."""
    msg = Message("ORM_O01", version=version, validation_level=VALIDATION_LEVEL.TOLERANT)
    _msh(msg, code, "ORM^O01", control_id)
    msg.msh.msh_12 = version
    _pid(msg, p)
    _pv1(msg, visit)
    start = start or (datetime.now(timezone.utc) + timedelta(minutes=30)).strftime("%Y%m%d%H%M%S")
    orc = msg.add_segment("ORC")
    orc.orc_1 = control
    orc.orc_2 = escape(placer)
    if filler:
        orc.orc_3 = escape(filler)
    if status:
        orc.orc_5 = status
    orc.orc_7 = f"^^^{start}"
    orc.orc_12 = "D200^Mbeki^Tomas"
    obr = msg.add_segment("OBR")
    obr.obr_1 = "1"
    obr.obr_2 = escape(placer)
    if procedure:
        obr.obr_4 = f"{escape(procedure)}^{escape(description)}^L"
    if accession:
        obr.obr_18 = escape(accession)
    if modality:
        obr.obr_24 = modality
    obr.obr_27 = f"^^^{start}"
    return msg.to_er7()


def omi(code: str, p: dict, *, placer: str, procedure: str = "MRBRAIN",
        description: str = "MRI BRAIN", accession: str = "", modality: str = "MR",
        study_uid: str = "", station_ae: str = "", start: str | None = None,
        control_id: str | None = None, control: str = "NW") -> str:
    """OMI^O23 (v2.5.1): ORC, TQ1 (start), OBR, IPC (accession, study UID, SPS, modality)."""
    msg = Message("OMI_O23", version="2.5.1", validation_level=VALIDATION_LEVEL.TOLERANT)
    _msh(msg, code, "OMI^O23^OMI_O23", control_id)
    _pid(msg, p)
    _pv1(msg, None)
    start = start or (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y%m%d%H%M%S")
    orc = msg.add_segment("ORC")
    orc.orc_1 = control
    orc.orc_2 = escape(placer)
    tq1 = msg.add_segment("TQ1")
    tq1.tq1_1 = "1"
    tq1.tq1_7 = start
    obr = msg.add_segment("OBR")
    obr.obr_1 = "1"
    obr.obr_2 = escape(placer)
    obr.obr_4 = f"{escape(procedure)}^{escape(description)}^L"
    ipc = msg.add_segment("IPC")
    ipc.ipc_1 = escape(accession or f"ACC{placer}"[:16])
    ipc.ipc_2 = f"RP{placer}"[:16]
    ipc.ipc_3 = study_uid or f"2.25.{abs(hash(placer)) % 10**30}"
    ipc.ipc_4 = f"SPS{placer}"[:16]
    if modality:
        ipc.ipc_5 = f"{modality}^{modality}^DCM"
    if station_ae:
        ipc.ipc_9 = escape(station_ae)
    return msg.to_er7()


def oru(code: str, p: dict, *, placer: str = "", filler: str = "", accession: str = "",
        text: str = "No acute intracranial abnormality.", status: str = "F",
        control_id: str | None = None) -> str:
    """ORU^R01 (v2.5.1): the report as OBX-5 TX lines."""
    msg = Message("ORU_R01", version="2.5.1", validation_level=VALIDATION_LEVEL.TOLERANT)
    _msh(msg, code, "ORU^R01^ORU_R01", control_id)
    _pid(msg, p)
    obr = msg.add_segment("OBR")
    obr.obr_1 = "1"
    if placer:
        obr.obr_2 = escape(placer)
    if filler:
        obr.obr_3 = escape(filler)
    obr.obr_4 = "CTHEAD^CT HEAD^L"
    if accession:
        obr.obr_18 = escape(accession)
    obr.obr_25 = status
    for i, line in enumerate(text.split("\n"), 1):
        obx = msg.add_segment("OBX")
        obx.obx_1 = str(i)
        obx.obx_2 = "TX"
        obx.obx_3 = "IMP^Impression^L"
        obx.obx_5 = escape(line)
        obx.obx_11 = status
    return msg.to_er7()
