"""C-ECHO SCP (PS3.4 A.4: Verification)."""

from __future__ import annotations

from sandbox.archive import status as st
from sandbox.archive.context import AssociationContext


def on_echo(event, ctx: AssociationContext) -> int:
    ctx.record("dimse.c-echo", f"C-ECHO from {ctx.calling_ae}", status=st.SUCCESS,
               duration_ms=ctx.elapsed_ms())
    return st.SUCCESS
