"""Sandbox tables, one module per domain; importing this package registers them all."""

from sandbox.models.imaging import Instance, Patient, Series, Study
from sandbox.models.journal import JournalEvent
from sandbox.models.partition import Fault, Node, Partition
from sandbox.models.routing import ForwardJob, RoutingRule
from sandbox.models.ris import (  # the RIS (sandbox/ris/)
    Hl7Message, RisEndpoint, RisMpps, RisOrder, RisPatient, RisProcedure, RisReport, RisSettings,
    RisStudyMatch, RisVisit,
)

__all__ = [
    "Fault", "ForwardJob", "Instance", "JournalEvent", "Node", "Partition",
    "Patient", "RoutingRule", "Series", "Study",
    "Hl7Message", "RisEndpoint", "RisMpps", "RisOrder", "RisPatient", "RisProcedure",
    "RisReport", "RisSettings", "RisStudyMatch", "RisVisit",
]
