"""C-FIND matching and C-MOVE/C-GET selection, translated to SQL (PS3.4 C.2.2.2, C.4).

Supported matching (PS3.4 C.2.2.2): single value (C.2.2.2.1), list of UIDs
(C.2.2.2.2), universal (C.2.2.2.3), wildcard `*`/`?` (C.2.2.2.4), date and time
range (C.2.2.2.5). PN matching is case-insensitive (the standard leaves it to
the implementation); other strings are case-sensitive. Keys the index does not
hold, and keys below the query level, are returned zero-length (C.2.2.1.2).
Entities with an empty value never match a range (there is nothing to compare).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.sql import Select

from sandbox.archive import status
from sandbox.models import Instance, Patient, Series, Study

LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
_TABLES = (Patient, Study, Series, Instance)


class QueryError(Exception):
    """An identifier the archive cannot process; `status` is the DIMSE status to answer."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status = status_code


@dataclass(frozen=True)
class Key:
    level: str
    column: object
    vr: str
    unique: bool = False


KEYS: dict[str, Key] = {
    "PatientID": Key("PATIENT", Patient.patient_id, "LO", unique=True),
    "PatientName": Key("PATIENT", Patient.patient_name, "PN"),
    "PatientBirthDate": Key("PATIENT", Patient.birth_date, "DA"),
    "PatientSex": Key("PATIENT", Patient.sex, "CS"),
    "StudyInstanceUID": Key("STUDY", Study.study_uid, "UI", unique=True),
    "StudyDate": Key("STUDY", Study.study_date, "DA"),
    "StudyTime": Key("STUDY", Study.study_time, "TM"),
    "AccessionNumber": Key("STUDY", Study.accession_number, "SH"),
    "StudyID": Key("STUDY", Study.study_id, "SH"),
    "StudyDescription": Key("STUDY", Study.study_description, "LO"),
    "ReferringPhysicianName": Key("STUDY", Study.referring_physician, "PN"),
    "ModalitiesInStudy": Key("STUDY", Study.modalities, "CS*"),
    "SeriesInstanceUID": Key("SERIES", Series.series_uid, "UI", unique=True),
    "Modality": Key("SERIES", Series.modality, "CS"),
    "SeriesNumber": Key("SERIES", Series.series_number, "IS"),
    "SeriesDescription": Key("SERIES", Series.series_description, "LO"),
    "BodyPartExamined": Key("SERIES", Series.body_part, "CS"),
    "SOPInstanceUID": Key("IMAGE", Instance.sop_instance_uid, "UI", unique=True),
    "SOPClassUID": Key("IMAGE", Instance.sop_class_uid, "UI"),
    "InstanceNumber": Key("IMAGE", Instance.instance_number, "IS"),
}

# Computed return keys (PS3.4 C.3.2.1.1.2, C.3.4): level they belong to -> what they count.
COUNTS = {
    "NumberOfPatientRelatedStudies": ("PATIENT", "STUDY"),
    "NumberOfPatientRelatedSeries": ("PATIENT", "SERIES"),
    "NumberOfPatientRelatedInstances": ("PATIENT", "IMAGE"),
    "NumberOfStudyRelatedSeries": ("STUDY", "SERIES"),
    "NumberOfStudyRelatedInstances": ("STUDY", "IMAGE"),
    "NumberOfSeriesRelatedInstances": ("SERIES", "IMAGE"),
}

_SKIP = {"QueryRetrieveLevel", "SpecificCharacterSet", "RetrieveAETitle"}
_DA = re.compile(r"\d{8}")
_TM = re.compile(r"\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?")
_UI = re.compile(r"[0-9]+(\.[0-9]+)*")
_IS = re.compile(r"[+-]?\d{1,12}")


@dataclass
class Query:
    level: str
    conditions: list[ColumnElement] = field(default_factory=list)
    return_keys: list[str] = field(default_factory=list)
    unique_keys: set[str] = field(default_factory=set)

    @property
    def depth(self) -> int:
        return LEVELS.index(self.level)


def parse(identifier: Dataset, model: str) -> Query:
    """Turn a C-FIND/C-MOVE/C-GET identifier into SQL conditions; QueryError if invalid.

    `model` is "PATIENT" (Patient Root) or "STUDY" (Study Root).
    """
    level = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
    if level not in LEVELS:
        # PS3.4 C.4.1.1.4: identifier does not match SOP class
        raise QueryError(f"QueryRetrieveLevel {level!r} is not one of {LEVELS}",
                         status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS)
    if model == "STUDY" and level == "PATIENT":
        # PS3.4 C.6.2: Study Root has no PATIENT level
        raise QueryError("Study Root has no PATIENT level",
                         status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS)
    query = Query(level)
    for elem in identifier:
        keyword = elem.keyword
        if not keyword or keyword in _SKIP:
            continue
        query.return_keys.append(keyword)
        key = KEYS.get(keyword)
        if key is None or LEVELS.index(key.level) > query.depth:
            continue  # returned zero-length (PS3.4 C.2.2.1.2)
        values = _values(elem.value)
        if not values:
            continue  # universal matching (C.2.2.2.3)
        if key.unique:
            query.unique_keys.add(keyword)
        query.conditions.append(_condition(keyword, key, values))
    return query


def _values(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, MultiValue):
        items = [str(v).strip() for v in value]
    else:
        items = [str(value).strip()]
    items = [v for v in items if v]
    # "*" alone is universal matching too (C.2.2.2.3)
    return [] if items == ["*"] or not items else items


def _invalid(keyword: str, value: str, expected: str) -> QueryError:
    # PS3.4 C.4.1.1.4 "Unable to process" (C000-CFFF) for values we cannot match on
    return QueryError(f"{keyword} value {value!r} is not {expected}", status.UNABLE_TO_PROCESS)


def _condition(keyword: str, key: Key, values: list[str]) -> ColumnElement:
    col = key.column
    if key.vr == "UI":
        for v in values:
            if not _UI.fullmatch(v) or len(v) > 64:
                raise _invalid(keyword, v, "a UID (digits and dots, at most 64)")
        # list of UID matching (C.2.2.2.2)
        return col == values[0] if len(values) == 1 else col.in_(values)
    parts = [_one(keyword, key, v) for v in values]
    return parts[0] if len(parts) == 1 else or_(*parts)


def _one(keyword: str, key: Key, v: str) -> ColumnElement:
    col = key.column
    if key.vr in ("DA", "TM"):
        pattern, pad_low, pad_high = (
            (_DA, lambda s: s, lambda s: s) if key.vr == "DA"
            else (_TM, _tm_low, _tm_high)
        )
        if "-" in v:  # range matching (C.2.2.2.5)
            low, _, high = v.partition("-")
            for part in (low, high):
                if part and not pattern.fullmatch(part):
                    raise _invalid(keyword, v, f"a {key.vr} range")
            if not low and not high:
                raise _invalid(keyword, v, f"a {key.vr} range")
            cond = [col != ""]
            if low:
                cond.append(col >= pad_low(low))
            if high:
                cond.append(col <= pad_high(high))
            return and_(*cond)
        if not pattern.fullmatch(v):
            raise _invalid(keyword, v, f"a {key.vr} value or range")
        return col == v if key.vr == "DA" else col.startswith(v)
    if key.vr == "IS" and not _IS.fullmatch(v):
        raise _invalid(keyword, v, "an integer")
    if key.vr == "CS*":  # a multi-valued column: match any of its values
        padded = literal("\\").concat(col).concat("\\")
        return padded.like(f"%\\{_like(v)}\\%", escape="|") if _wild(v) else \
            padded.contains(f"\\{v}\\", autoescape=True)
    if key.vr == "PN":
        upper = func.upper(col)
        return upper.like(_like(v.upper()), escape="|") if _wild(v) else upper == v.upper()
    return col.like(_like(v), escape="|") if _wild(v) else col == v


def _wild(v: str) -> bool:
    return "*" in v or "?" in v


def _like(v: str) -> str:
    """DICOM wildcards (C.2.2.2.4) to a LIKE pattern with '|' as escape."""
    out = v.replace("|", "||").replace("%", "|%").replace("_", "|_")
    return out.replace("*", "%").replace("?", "_")


def _tm_low(t: str) -> str:
    return t


def _tm_high(t: str) -> str:
    digits, dot, frac = t.partition(".")
    return digits + "595959"[len(digits) - 2:] + "." + (frac + "999999")[:6] if len(digits) < 6 \
        else digits + "." + (frac + "999999")[:6]


def _scoped(stmt: Select, depth: int, partition_id: int, store: str) -> Select:
    stmt = stmt.select_from(Patient)
    joins = ((Study, Study.patient_pk == Patient.id), (Series, Series.study_pk == Study.id),
             (Instance, Instance.series_pk == Series.id))
    for table, on in joins[:depth]:
        stmt = stmt.join(table, on)
    for table in _TABLES[: depth + 1]:
        stmt = stmt.where(table.partition_id == partition_id, table.store == store)
    return stmt


def find(conn, partition_id: int, store: str, query: Query, limit: int | None = None):
    """Rows for C-FIND: a mapping keyword -> value per matching entity at the query level."""
    cols = [k.column.label(kw) for kw, k in KEYS.items() if LEVELS.index(k.level) <= query.depth]
    for kw in query.return_keys:
        if kw in COUNTS and COUNTS[kw][0] == query.level:
            cols.append(_count(COUNTS[kw]).label(kw))
    stmt = _scoped(select(*cols), query.depth, partition_id, store).where(*query.conditions)
    stmt = stmt.order_by(_TABLES[query.depth].id)
    if limit:
        stmt = stmt.limit(limit)
    return conn.execute(stmt).mappings()


def _count(spec: tuple[str, str]):
    """A correlated count subquery, e.g. instances of the current study."""
    owner, counted = LEVELS.index(spec[0]), LEVELS.index(spec[1])
    outer, table = _TABLES[owner], _TABLES[counted]
    fk = {1: Study.patient_pk, 2: Series.study_pk, 3: Instance.series_pk}
    # Join upwards: counted -> ... -> the level just below owner, then correlate to owner.
    q = select(func.count(table.id)).select_from(table)
    current = counted
    while current - 1 > owner:
        parent = _TABLES[current - 1]
        q = q.join(parent, fk[current] == parent.id)
        current -= 1
    return q.where(fk[current] == outer.id).correlate(outer).scalar_subquery()


def instances(conn, partition_id: int, store: str, query: Query) -> list:
    """Instances a C-MOVE/C-GET identifier selects (PS3.4 C.4.2.2.1: unique keys)."""
    unique_for_level = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID",
                        "SERIES": "SeriesInstanceUID", "IMAGE": "SOPInstanceUID"}[query.level]
    if unique_for_level not in query.unique_keys:
        raise QueryError(f"a {query.level} level retrieve needs {unique_for_level}",
                         status.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS)
    stmt = _scoped(
        select(Instance.sop_instance_uid, Instance.sop_class_uid, Instance.transfer_syntax,
               Instance.path, Instance.size),
        3, partition_id, store,
    ).where(*query.conditions).order_by(Instance.id)
    return conn.execute(stmt).all()


def response(row, query: Query, identifier: Dataset, retrieve_ae: str) -> Dataset:
    """The identifier of one C-FIND match: the requested keys, filled from `row`."""
    ds = Dataset()
    non_ascii = False
    for elem in identifier:
        kw = elem.keyword
        if not kw or kw == "SpecificCharacterSet":
            continue
        if kw == "QueryRetrieveLevel":
            value = query.level
        elif kw == "RetrieveAETitle":
            value = retrieve_ae
        elif kw in row:
            value = row[kw]
            value = "" if value is None else value
            if kw in COUNTS:
                value = int(value)
        elif elem.VR == "SQ":
            value = []
        else:
            value = None
        if isinstance(value, str) and not value.isascii():
            non_ascii = True
        setattr(ds, kw, value)
    # PS3.4 C.4.1.1.3.2: each response names its level and where to retrieve from
    ds.QueryRetrieveLevel = query.level
    ds.RetrieveAETitle = retrieve_ae
    if non_ascii:
        ds.SpecificCharacterSet = "ISO_IR 192"
    return ds
