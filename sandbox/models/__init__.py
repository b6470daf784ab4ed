"""Sandbox tables, one module per domain; importing this package registers them all."""

from sandbox.models.imaging import Instance, Patient, Series, Study
from sandbox.models.journal import JournalEvent
from sandbox.models.partition import Fault, Node, Partition
from sandbox.models.routing import ForwardJob, RoutingRule

__all__ = [
    "Fault", "ForwardJob", "Instance", "JournalEvent", "Node", "Partition",
    "Patient", "RoutingRule", "Series", "Study",
]
