"""Where outgoing associations may go: registered nodes on loopback, or allowed networks.

The sandbox must never become a way to reach arbitrary hosts, so every outgoing
association (C-MOVE destination, forwarding, storage commitment report, device)
passes `check_destination` first.
"""

from __future__ import annotations

import ipaddress
import socket


class DestinationRefused(Exception):
    """An outgoing association to this host is not allowed."""


def check_destination(host: str, allowed_networks: tuple[str, ...]) -> str:
    """Return the IP address to connect to, or raise DestinationRefused."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise DestinationRefused(f"cannot resolve host {host!r}: {exc}") from None
    nets = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
    addresses = {info[4][0] for info in infos}
    for address in sorted(addresses):
        ip = ipaddress.ip_address(address)
        if ip.is_loopback or any(ip in net for net in nets):
            return address
    raise DestinationRefused(
        f"host {host!r} ({', '.join(sorted(addresses))}) is not loopback and not in an "
        "allowed network (SANDBOX_ALLOWED_NETWORKS)"
    )
