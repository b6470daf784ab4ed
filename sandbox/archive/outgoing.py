"""Outgoing associations: only to registered nodes, only to allowed addresses, TCP_NODELAY on.

Used by C-MOVE sub-operations, forwarding, storage commitment reports and the
simulated devices. pynetdicom never sets TCP_NODELAY; without it every small
DIMSE message waits for the peer's delayed ACK (~40 ms), so it is set as soon as
the socket connects (EVT_CONN_OPEN).
"""

from __future__ import annotations

import socket

from pynetdicom import AE, evt
from pynetdicom.association import Association

from sandbox.config import SandboxConfig
from sandbox.netpolicy import check_destination
from sandbox.records import NodeInfo


def set_nodelay(event) -> None:
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


NODELAY_HANDLERS = [(evt.EVT_CONN_OPEN, set_nodelay)]


class Outgoing:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config

    def make_ae(self, calling_ae: str) -> AE:
        """A fresh AE for one outgoing association (its calling AE title is per partition)."""
        ae = AE(calling_ae)
        ae.acse_timeout = self.config.acse_timeout
        ae.dimse_timeout = self.config.dimse_timeout
        ae.network_timeout = self.config.network_timeout
        ae.connection_timeout = min(self.config.acse_timeout, 10)
        ae.maximum_pdu_size = self.config.max_pdu
        return ae

    def address(self, node: NodeInfo) -> str:
        """The address to connect to for `node`; raises DestinationRefused."""
        return check_destination(node.host, self.config.allowed_networks)

    def associate(self, calling_ae: str, node: NodeInfo, contexts, *, evt_handlers=(),
                  ext_neg=None) -> Association:
        """Associate with a registered `node` (DestinationRefused if policy forbids it)."""
        ae = self.make_ae(calling_ae)
        return ae.associate(
            self.address(node), node.port, contexts=contexts, ae_title=node.ae_title,
            max_pdu=self.config.max_pdu, ext_neg=ext_neg,
            evt_handlers=[*NODELAY_HANDLERS, *evt_handlers],
        )

    def associate_kwargs(self) -> dict:
        """Keyword arguments for pynetdicom's own C-MOVE sub-association."""
        return {"max_pdu": self.config.max_pdu, "evt_handlers": list(NODELAY_HANDLERS)}
