"""The role registry: what each called-AE suffix answers (PACS, WS, RIS, ...).

A role names the presentation contexts it accepts and one handler per DIMSE
event. The archive registers PACS and WS (sandbox/archive/services.py); the RIS
registers RIS from sandbox/ris/ with `register(...)` without touching anything here.
A handler has the signature `handler(event, ctx)` where ctx is the
AssociationContext (partition, role, services); C-FIND/C-GET/C-MOVE handlers
are generators, as pynetdicom expects.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Callable

from pynetdicom import evt

log = logging.getLogger("sandbox.roles")

# Modules that register roles when imported; optional ones may not exist yet.
ROLE_MODULES = ("sandbox.archive.services", "sandbox.ris")


@dataclass(frozen=True)
class Role:
    suffix: str
    # Abstract syntax UID -> transfer syntaxes accepted for it.
    contexts: dict[str, tuple[str, ...]]
    handlers: dict[evt.InterventionEvent, Callable] = field(default_factory=dict)
    # Abstract syntaxes for which the requestor may take the SCP role (C-GET storage).
    scp_role_syntaxes: frozenset[str] = frozenset()
    # Which image store this role's storage and queries use, if any.
    store: str | None = None


_REGISTRY: dict[str, Role] = {}


def register(role: Role) -> None:
    """Make `role` answer as <CODE>_<role.suffix> on the shared port."""
    _REGISTRY[role.suffix] = role


def get(suffix: str) -> Role | None:
    return _REGISTRY.get(suffix)


def suffixes() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def load() -> None:
    """Import every role module (idempotent); a missing optional module is skipped."""
    for name in ROLE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            log.debug("role module %s not present", name)
