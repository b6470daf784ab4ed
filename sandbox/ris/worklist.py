"""Modality Worklist C-FIND SCP at <CODE>_RIS (PS3.4 Annex K; IHE RAD-5 Query Modality Worklist).

Matching keys (PS3.4 K.6.1.2.2 table K.6-1) answered from the partition's
scheduled orders, with the archive's matching rules (sandbox/archive/matching.py:
single value, `*`/`?` wildcards, date and time ranges, PN case-insensitive):
  in the Scheduled Procedure Step Sequence item: Scheduled Station AE Title,
  Modality, Scheduled Procedure Step Start Date and Start Time (ranges), SPS ID;
  at the top level: Patient ID, Patient's Name, Accession Number, Requested
  Procedure ID, Study Instance UID (list of UIDs), Referring Physician's Name.
Date and time ranges are matched independently (PS3.4 C.2.2.2.5.1 combined
date-time matching is not offered). Only scheduled orders (status SC) are on the
worklist. Every requested return key is answered; a zero-length sequence asks for
the whole item (PS3.4 C.2.2.2.6). The identifier is never modified.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from sqlalchemy import select

from sandbox.archive import matching
from sandbox.archive import status as st
from sandbox.archive.query import identifier_summary
from sandbox.models import RisOrder, RisPatient

K = matching.Key
TOP_KEYS = {
    "PatientID": K("PATIENT", RisPatient.patient_id, "LO", unique=True),
    "PatientName": K("PATIENT", RisPatient.name, "PN"),
    "PatientBirthDate": K("PATIENT", RisPatient.birth_date, "DA"),
    "PatientSex": K("PATIENT", RisPatient.sex, "CS"),
    "AccessionNumber": K("STUDY", RisOrder.accession_number, "SH"),
    "RequestedProcedureID": K("STUDY", RisOrder.requested_procedure_id, "SH"),
    "StudyInstanceUID": K("STUDY", RisOrder.study_uid, "UI", unique=True),
    "ReferringPhysicianName": K("STUDY", RisOrder.referring_physician, "PN"),
    "RequestedProcedureDescription": K("STUDY", RisOrder.procedure_description, "LO"),
}
SPS_KEYS = {
    "ScheduledStationAETitle": K("STUDY", RisOrder.station_ae, "AE"),
    "Modality": K("STUDY", RisOrder.modality, "CS"),
    "ScheduledProcedureStepStartDate": K("STUDY", RisOrder.sps_start_date, "DA"),
    "ScheduledProcedureStepStartTime": K("STUDY", RisOrder.sps_start_time, "TM"),
    "ScheduledProcedureStepID": K("STUDY", RisOrder.sps_id, "SH"),
    "ScheduledProcedureStepDescription": K("STUDY", RisOrder.procedure_description, "LO"),
}


def conditions(identifier: Dataset) -> list:
    """SQL conditions for an MWL identifier; matching.QueryError when a value is unusable."""
    out = []
    for elem in identifier:
        if elem.keyword in TOP_KEYS and elem.VR != "SQ":
            values = matching._values(elem.value)
            if values:
                out.append(matching._condition(elem.keyword, TOP_KEYS[elem.keyword], values))
    sps = identifier.get("ScheduledProcedureStepSequence")
    if sps is not None and len(sps) > 1:
        # PS3.4 C.2.2.2.6: a sequence matching key has a single item
        raise matching.QueryError("Scheduled Procedure Step Sequence has more than one item",
                                  st.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS)
    if sps:
        for elem in sps[0]:
            if elem.keyword in SPS_KEYS and elem.VR != "SQ":
                values = matching._values(elem.value)
                if values:
                    out.append(matching._condition(elem.keyword, SPS_KEYS[elem.keyword], values))
    return out


def scheduled(conn, partition_id: int, conds: list):
    q = (select(RisOrder.__table__, RisPatient.patient_id.label("patient_id"),
                RisPatient.issuer.label("issuer"), RisPatient.name.label("patient_name"),
                RisPatient.birth_date.label("patient_birth_date"),
                RisPatient.sex.label("patient_sex"))
         .join(RisPatient, RisPatient.id == RisOrder.patient_pk)
         .where(RisOrder.partition_id == partition_id, RisOrder.status == "SC", *conds)
         .order_by(RisOrder.sps_start_date, RisOrder.sps_start_time, RisOrder.id))
    return conn.execute(q).all()


def full_item(row) -> Dataset:
    """Everything IHE RAD-5 expects for one scheduled procedure step (RAD TF-2 4.5.4.2)."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = row.patient_name
    ds.PatientID = row.patient_id
    ds.IssuerOfPatientID = row.issuer
    ds.PatientBirthDate = row.patient_birth_date
    ds.PatientSex = row.patient_sex
    ds.AccessionNumber = row.accession_number
    ds.ReferringPhysicianName = row.referring_physician
    ds.RequestedProcedureID = row.requested_procedure_id
    ds.RequestedProcedureDescription = row.procedure_description
    ds.RequestedProcedurePriority = row.priority
    code = Dataset()
    code.CodeValue = row.procedure_code
    code.CodingSchemeDesignator = row.procedure_scheme or "L"
    code.CodeMeaning = row.procedure_description or row.procedure_code
    ds.RequestedProcedureCodeSequence = [code]
    ds.StudyInstanceUID = row.study_uid
    ds.PlacerOrderNumberImagingServiceRequest = row.placer_number
    ds.FillerOrderNumberImagingServiceRequest = row.filler_number
    sps = Dataset()
    sps.ScheduledStationAETitle = row.station_ae
    sps.ScheduledProcedureStepStartDate = row.sps_start_date
    sps.ScheduledProcedureStepStartTime = row.sps_start_time
    sps.Modality = row.modality
    sps.ScheduledPerformingPhysicianName = ""
    sps.ScheduledProcedureStepDescription = row.procedure_description
    sps.ScheduledProcedureStepID = row.sps_id
    sps.ScheduledProcedureStepStatus = "SCHEDULED"
    sps.ScheduledProtocolCodeSequence = [code]
    ds.ScheduledProcedureStepSequence = [sps]
    return ds


def response(identifier: Dataset, full: Dataset) -> Dataset:
    """The requested keys of `identifier`, filled from `full` (empty when unknown)."""
    out = Dataset()
    for elem in identifier:
        kw = elem.keyword
        if not kw:
            continue
        if elem.VR == "SQ":
            items = full.get(kw)
            if items is None:
                setattr(out, kw, [])
            elif not elem.value:  # zero-length sequence: the whole item (PS3.4 C.2.2.2.6)
                setattr(out, kw, [_copy(i) for i in items])
            else:
                setattr(out, kw, [response(elem.value[0], i) for i in items])
        elif kw in full:
            setattr(out, kw, full[kw].value)
        else:
            out.add_new(elem.tag, elem.VR, None)
    out.SpecificCharacterSet = "ISO_IR 192"
    return out


def _copy(item: Dataset) -> Dataset:
    copy = Dataset()
    for elem in item:
        copy.add(elem)
    return copy


def on_find(event, ctx):
    """C-FIND handler (a generator, as pynetdicom expects)."""
    try:
        identifier = event.identifier
    except Exception as exc:  # noqa: BLE001 - PS3.4 K.4.1.1.4: unable to process
        ctx.record("dimse.c-find", f"MWL C-FIND identifier cannot be decoded: {exc}",
                   status=st.UNABLE_TO_PROCESS, service="MWL")
        yield st.UNABLE_TO_PROCESS, None
        return
    keys = identifier_summary(identifier)
    sps = identifier.get("ScheduledProcedureStepSequence")
    if sps:
        keys.update({f"SPS.{k}": v for k, v in identifier_summary(sps[0]).items()})
    try:
        conds = conditions(identifier)
        with ctx.services.db.read() as conn:
            rows = scheduled(conn, ctx.partition.id, conds)
    except matching.QueryError as exc:
        ctx.record("dimse.c-find", f"MWL C-FIND refused: {exc}", status=exc.status,
                   identifier=keys, service="MWL", reason=str(exc), duration_ms=ctx.elapsed_ms())
        yield exc.status, None
        return
    sent = 0
    for row in rows:
        if event.is_cancelled:
            ctx.record("dimse.c-find", f"MWL C-FIND cancelled after {sent} matches",
                       status=st.CANCEL, identifier=keys, service="MWL", matches=sent)
            yield st.CANCEL, None
            return
        yield st.PENDING, response(identifier, full_item(row))
        sent += 1
    ctx.record("dimse.c-find", f"MWL C-FIND {keys or 'universal'}: {sent} scheduled step(s)",
               status=st.SUCCESS, identifier=keys, service="MWL", matches=sent,
               accession_numbers=[r.accession_number for r in rows][:50],
               duration_ms=ctx.elapsed_ms())
