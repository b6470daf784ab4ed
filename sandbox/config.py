"""Sandbox settings: one frozen dataclass, filled by the caller (API, CLI, platform)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

# PS3.8 9.3.1: the receiver advertises its maximum PDU length; 16 KiB (pynetdicom's
# default) costs a third of the receive rate, 128 KiB or more does not.
DEFAULT_MAX_PDU = 262_144


@dataclass(frozen=True)
class SandboxConfig:
    # The same defaults the site uses (academy/sandbox_link.py), so the CLI and
    # `python app.py` see one sandbox unless told otherwise.
    database_url: str = "sqlite:///instance/sandbox/sandbox.db"
    data_dir: Path = Path("instance/sandbox")
    host: str = "127.0.0.1"
    dicom_port: int = 11112
    hl7_port: int = 2575
    # Networks (CIDR) that outgoing associations may reach besides loopback.
    allowed_networks: tuple[str, ...] = ()
    max_associations: int = 32
    max_pdu: int = DEFAULT_MAX_PDU
    # Seconds: waiting for A-ASSOCIATE-RQ (ARTIM), for a DIMSE message, for any bytes.
    acse_timeout: float = 30.0
    dimse_timeout: float = 30.0
    network_timeout: float = 60.0
    # fsync each received file before indexing it (durable; costs some rate).
    fsync: bool = True
    forward_retry_seconds: float = 30.0
    forward_max_attempts: int = 5
    # HL7/MLLP (sandbox/ris/mllp.py): largest message accepted, seconds of client silence
    hl7_max_bytes: int = 1_048_576
    hl7_timeout: float = 30.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        # Accept strings or ip_network objects; ValueError on a bad entry.
        nets = tuple(str(ipaddress.ip_network(str(n), strict=False)) for n in self.allowed_networks)
        object.__setattr__(self, "allowed_networks", nets)
        if self.max_associations < 1:
            raise ValueError("max_associations must be at least 1")

    @classmethod
    def from_env(cls, **overrides) -> "SandboxConfig":
        """Defaults, then SANDBOX_* / ACADEMY_* environment variables, then `overrides`."""
        env = os.environ
        values: dict = {}
        if data := env.get("SANDBOX_DATA_DIR"):
            values["data_dir"] = Path(data)
        elif data := env.get("ACADEMY_DATA_DIR"):
            values["data_dir"] = Path(data) / "sandbox"
        if "data_dir" in values:
            values["database_url"] = f"sqlite:///{values['data_dir'] / 'sandbox.db'}"
        # as academy/sandbox_link.py: the sandbox's own URL, else SQLite in its data dir
        if url := env.get("SANDBOX_DATABASE_URL") or env.get("ACADEMY_SANDBOX_DATABASE_URL"):
            values["database_url"] = url
        if nets := env.get("SANDBOX_ALLOWED_NETWORKS"):
            values["allowed_networks"] = tuple(n.strip() for n in nets.split(",") if n.strip())
        if maxa := env.get("SANDBOX_MAX_ASSOCIATIONS"):
            values["max_associations"] = int(maxa)
        if hl7_max := env.get("SANDBOX_HL7_MAX_BYTES"):
            values["hl7_max_bytes"] = int(hl7_max)
        if hl7_timeout := env.get("SANDBOX_HL7_TIMEOUT"):
            values["hl7_timeout"] = float(hl7_timeout)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
