"""The DICOM listener: one port for every partition and role.

A ThreadedAssociationServer whose request handler swaps in PartitionACSE (the
per-partition negotiation, see negotiation.py) and sets TCP_NODELAY. Each
DIMSE event goes to one dispatcher that applies the per-association faults
(delay, drop after N operations), finds the role's handler and guarantees that
a handler error becomes a journaled failure status, never an exception.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from pynetdicom import AE, _config, evt
from pynetdicom.transport import RequestHandler, ThreadedAssociationServer

from sandbox import journal
from sandbox.archive import roles
from sandbox.archive import status as st
from sandbox.archive.context import AssociationContext, Services
from sandbox.archive.negotiation import Gate, PartitionACSE

log = logging.getLogger("sandbox.server")

GENERATOR_EVENTS = (evt.EVT_C_FIND, evt.EVT_C_GET, evt.EVT_C_MOVE)
PLAIN_EVENTS = (evt.EVT_C_ECHO, evt.EVT_C_STORE, evt.EVT_N_ACTION, evt.EVT_N_CREATE,
                evt.EVT_N_SET, evt.EVT_N_GET, evt.EVT_N_DELETE, evt.EVT_N_EVENT_REPORT)
_N_EVENTS = {evt.EVT_N_ACTION, evt.EVT_N_CREATE, evt.EVT_N_SET, evt.EVT_N_GET,
             evt.EVT_N_DELETE, evt.EVT_N_EVENT_REPORT}


class _Handler(RequestHandler):
    def _create_association(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A peer that stops halfway through a PDU must not block the reader forever.
        self.request.settimeout(self.server.gate.services.config.network_timeout)
        assoc = super()._create_association()
        assoc.acse = PartitionACSE(assoc)
        return assoc

    def handle(self) -> None:
        """Run the association, then make sure the connection is closed and accounted for.

        pynetdicom treats a truncated PDU as "transport closed" without closing the
        socket, which would leave the peer hanging; closing here ends it.
        """
        assoc = self._create_association()
        evt.trigger(assoc, evt.EVT_CONN_OPEN, {"address": self.client_address})
        assoc.start()
        assoc.join()
        try:
            self.request.close()
        except OSError:
            pass
        if getattr(assoc, "sandbox", None) is None and not assoc.is_rejected:
            peer = f"{self.client_address[0]}:{self.client_address[1]}"
            journal.record(self.server.gate.services.db, None, "failure",
                           f"connection from {peer} closed before an association was "
                           "established (malformed or truncated PDU, timeout, or no "
                           "A-ASSOCIATE-RQ)", peer=peer)


class _Server(ThreadedAssociationServer):
    daemon_threads = True
    gate: Gate


def _begin(event, ctx: AssociationContext) -> bool:
    """Count the operation and apply delay/drop faults; False if the association was dropped."""
    ctx.operations += 1
    ctx.started = time.perf_counter()
    drop = ctx.fault("drop_after")
    if drop and ctx.operations > drop["operations"]:
        ctx.fault_fired("drop_after", f"association aborted after {drop['operations']} operations")
        event.assoc.abort()
        return False
    delay = ctx.fault("delay_responses")
    if delay:
        ctx.fault_fired("delay_responses", f"response delayed {delay['seconds']} s")
        time.sleep(delay["seconds"])
    return True


def _failure_status(event) -> int:
    return st.UNABLE_TO_PROCESS if event.event in GENERATOR_EVENTS else st.PROCESSING_FAILURE


def _plain(event):
    ctx: AssociationContext = event.assoc.sandbox
    handler = ctx.role.handlers.get(event.event)
    result = st.SOP_CLASS_NOT_SUPPORTED
    try:
        if handler is None:
            ctx.record("failure", f"{event.event.name} not supported by {ctx.called_ae}",
                       status=result)
        elif _begin(event, ctx):
            return handler(event, ctx)
        else:
            result = st.PROCESSING_FAILURE
    except Exception as exc:  # noqa: BLE001 - handlers never raise into pynetdicom
        log.exception("handler for %s failed", event.event.name)
        result = st.PROCESSING_FAILURE
        ctx.record("failure", f"{event.event.name} failed: {type(exc).__name__}: {exc}",
                   status=result)
    return (result, None) if event.event in _N_EVENTS else result


def _generator(event):
    ctx: AssociationContext = event.assoc.sandbox
    handler = ctx.role.handlers.get(event.event)
    if handler is None:
        ctx.record("failure", f"{event.event.name} not supported by {ctx.called_ae}",
                   status=st.SOP_CLASS_NOT_SUPPORTED)
        yield from _refuse(event, st.SOP_CLASS_NOT_SUPPORTED)
        return
    if not _begin(event, ctx):
        yield from _refuse(event, st.PROCESSING_FAILURE)
        return
    produced = False
    try:
        for item in handler(event, ctx):
            produced = True
            yield item
    except Exception as exc:  # noqa: BLE001
        log.exception("handler for %s failed", event.event.name)
        ctx.record("failure", f"{event.event.name} failed: {type(exc).__name__}: {exc}",
                   status=st.UNABLE_TO_PROCESS)
        if not produced:
            yield from _refuse(event, st.UNABLE_TO_PROCESS)
        else:
            yield st.UNABLE_TO_PROCESS, None


def _refuse(event, status_code: int):
    """A final failure in the shape each generator service expects."""
    if event.event is evt.EVT_C_MOVE:
        yield None, None  # pynetdicom answers A801 when no destination is yielded
    elif event.event is evt.EVT_C_GET:
        yield 1
        yield status_code, None
    else:
        yield status_code, None


def _on_sent(event):
    """Journal the final C-MOVE/C-GET response with its sub-operation counts."""
    ctx: AssociationContext | None = getattr(event.assoc, "sandbox", None)
    if ctx is None or ctx.pending_final is None:
        return
    cs = event.message.command_set
    status_code = cs.get("Status")
    if status_code is None or st.is_pending(status_code):
        return
    kind, summary, details = ctx.pending_final
    ctx.pending_final = None
    counts = {k: cs.get(f"NumberOf{k.title()}Suboperations")
              for k in ("completed", "failed", "warning")}
    ctx.record(kind, f"{summary}: {st.name(status_code)} ({counts['completed'] or 0} sent, "
               f"{counts['failed'] or 0} failed)", status=status_code,
               duration_ms=ctx.elapsed_ms(), **counts, **details)


def _on_released(event):
    if ctx := getattr(event.assoc, "sandbox", None):
        ctx.record("association.released", f"{ctx.calling_ae} -> {ctx.called_ae} released",
                   operations=ctx.operations)


def _on_aborted(event):
    if ctx := getattr(event.assoc, "sandbox", None):
        ctx.record("association.aborted", f"{ctx.calling_ae} -> {ctx.called_ae} aborted",
                   operations=ctx.operations)


class Listener:
    """Owns the server thread; `start()` binds (port 0 picks a free port)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.server: _Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int | None:
        return self.server.server_address[1] if self.server else None

    def start(self, host: str, port: int) -> int:
        roles.load()
        config = self.services.config
        _config.LOG_HANDLER_LEVEL = "none"  # pynetdicom's per-PDU debug handlers cost time
        ae = AE("SANDBOX")
        ae.maximum_pdu_size = config.max_pdu
        ae.acse_timeout = config.acse_timeout
        ae.dimse_timeout = config.dimse_timeout
        ae.network_timeout = config.network_timeout
        ae.require_called_aet = False
        ae.require_calling_aet = []
        # The Gate enforces (and journals) config.max_associations first.
        ae.maximum_associations = 10 * config.max_associations + 10
        handlers = [(e, _plain) for e in PLAIN_EVENTS]
        handlers += [(e, _generator) for e in GENERATOR_EVENTS]
        handlers += [(evt.EVT_DIMSE_SENT, _on_sent), (evt.EVT_RELEASED, _on_released),
                     (evt.EVT_ABORTED, _on_aborted)]
        server = _Server(ae, (host, port), "SANDBOX", [], None, evt_handlers=handlers,
                         request_handler=_Handler)
        server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server.gate = Gate(self.services, server)
        ae._servers.append(server)  # so server.shutdown() can deregister it
        self.server = server
        self.services.own_address = ("127.0.0.1" if host in ("", "0.0.0.0") else host,
                                     server.server_address[1])
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="sandbox-dicom", daemon=True)
        self.thread.start()
        log.info("DICOM listener on %s:%s", host, self.port)
        return self.port

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        server.shutdown()
        for assoc in server.active_associations:
            assoc.abort()
        server.server_close()
        if self.thread:
            self.thread.join(timeout=5)
