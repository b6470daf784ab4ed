"""The sandbox: a hospital's DICOM archive (and, later, RIS) with one partition per trainee.

The platform uses only this module. `Sandbox` works in-process (after `start()`
the listener runs on threads here) and "remote" (same database and file store,
listener in another process): every partition, node, fault, scenario and journal
operation is a database operation, and the simulated devices open real
associations to the configured DICOM host and port. Everything returned is a
plain dataclass (sandbox.records).
"""

from sandbox.api import Sandbox
from sandbox.archive.fsck import FsckProblem, FsckReport
from sandbox.archive.status import name as status_name
from sandbox.config import SandboxConfig
from sandbox.records import (
    DimseResult, FaultInfo, ForwardJobInfo, InstanceInfo, JournalEvent, NodeInfo,
    PartitionInfo, RoutingRuleInfo, StorageUsage, StudyInfo,
)
from sandbox.ris.inbound import AckResult
from sandbox.ris.messages import fields as hl7_fields
from sandbox.ris.samples import adt as build_adt, orm as build_orm
from sandbox.ris.records import (
    Hl7EndpointInfo, Hl7MessageInfo, MppsInfo, OrderInfo, ProcedureInfo, ReportInfo,
    RisPatientInfo,
)
from sandbox.scenario import ScenarioError
from sandbox.scenario import validate as validate_scenario

__all__ = [
    "DimseResult", "FaultInfo", "ForwardJobInfo", "FsckProblem", "FsckReport", "InstanceInfo",
    "JournalEvent", "NodeInfo",
    "PartitionInfo", "RoutingRuleInfo", "Sandbox", "SandboxConfig", "ScenarioError",
    "StorageUsage", "StudyInfo", "status_name", "validate_scenario",
    # the RIS (sandbox/ris/)
    "AckResult", "Hl7EndpointInfo", "Hl7MessageInfo", "MppsInfo", "OrderInfo", "ProcedureInfo",
    "ReportInfo", "RisPatientInfo", "build_adt", "build_orm", "hl7_fields",
]
