"""The one registry of check types.

A check type is a small function registered by name with the pydantic model of its parameters. It
reads the trainee's partition through the sandbox API (via a CheckContext) and returns an Outcome
with a message a trainee understands. Lab files name check types as strings; an unknown name is a
validation error, and registering a name twice is an error at import time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel, ConfigDict, ValidationError


class Params(BaseModel):
    """Base for check parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str
    event_id: int | None = None  # the journal event that explains the result, for the trace


@dataclass(frozen=True)
class CheckType:
    name: str
    params: type[Params]
    run: Callable
    summary: str
    knowledge: bool = False  # the trainee answers it in the lab page


REGISTRY: dict[str, CheckType] = {}


class UnknownCheckType(KeyError):
    pass


def check(name: str, params: type[Params], *, knowledge: bool = False):
    """Register `function(ctx, params) -> Outcome` as check type `name`."""

    def register(function):
        if name in REGISTRY:
            raise RuntimeError(f"check type '{name}' is registered twice")
        REGISTRY[name] = CheckType(name, params, function, (function.__doc__ or "").strip().split("\n")[0], knowledge)
        return function

    return register


def get(name: str) -> CheckType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownCheckType(name) from None


def parameter_errors(name: str, params: dict) -> list[str]:
    """What is wrong with a check's type or parameters, in words; empty when all is well."""
    if name not in REGISTRY:
        return [f"unknown check type '{name}'; known types: {', '.join(sorted(REGISTRY))}"]
    try:
        REGISTRY[name].params.model_validate(params)
    except ValidationError as exc:
        return [f"params.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return []
