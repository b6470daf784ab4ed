"""The check types, imported from an explicit list so the registry holds exactly these."""
from academy.labs.checks import archive, knowledge, network, ris  # noqa: F401

MODULES = (archive, knowledge, network, ris)
