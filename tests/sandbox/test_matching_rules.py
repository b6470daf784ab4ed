"""Unit checks of the matching translation (no network): wildcards, ranges, codes, sockets."""

from __future__ import annotations

import fnmatch
import socket
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_

from sandbox.archive.matching import _like, _tm_high
from sandbox.codes import split_ae_title, validate_ae_title, validate_code

ALPHABET = "AB%_|*?^ "


@settings(max_examples=300, deadline=None)
@given(value=st_.text(alphabet="AB%_|^ ", max_size=6),
       pattern=st_.text(alphabet=ALPHABET, min_size=1, max_size=6))
def test_dicom_wildcards_match_like_fnmatch_and_nothing_else_is_special(value, pattern):
    """PS3.4 C.2.2.2.4: only * and ? are wildcards; % _ | are literal characters."""
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA case_sensitive_like=ON")
    got = db.execute("SELECT ? LIKE ? ESCAPE '|'", (value, _like(pattern))).fetchone()[0]
    escaped = "".join("[" + c + "]" if c not in "*?" else c for c in pattern)
    assert bool(got) == fnmatch.fnmatchcase(value, escaped)


@pytest.mark.parametrize("upper, stored, inside", [
    ("1500", "150059", True), ("1500", "150100", False), ("15", "155959.5", True),
    ("153000.5", "153000.4", True), ("153000.5", "153000.6", False),
])
def test_an_upper_time_bound_includes_the_whole_unit_it_names(upper, stored, inside):
    assert (stored <= _tm_high(upper)) is inside


def test_codes_and_ae_titles():
    assert validate_code("LAB1") == "LAB1"
    assert validate_ae_title(" VIEWER ") == "VIEWER"
    assert split_ae_title("LAB1_PACS") == ("LAB1", "PACS")
    assert split_ae_title("MY_LAB1_WS") is None  # the code part may not contain "_"
    assert split_ae_title("NOPE") is None
    for bad in ("A\\B", "", "X" * 17):
        with pytest.raises(ValueError):
            validate_ae_title(bad)


def test_outgoing_associations_set_tcp_nodelay(sandbox, code):
    from pynetdicom import build_context
    from pynetdicom.sop_class import Verification

    from sandbox.records import NodeInfo

    out = sandbox.services.outgoing
    assoc = out.associate("TESTSCU", NodeInfo(f"{code}_PACS", "127.0.0.1", sandbox.dicom_port),
                          [build_context(Verification)])
    try:
        assert assoc.is_established
        assert assoc.dul.socket.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        assoc.release()


def test_allowed_networks_accept_strings_or_network_objects():
    import ipaddress

    from sandbox import SandboxConfig

    config = SandboxConfig(allowed_networks=[ipaddress.ip_network("10.0.0.0/8"), "192.0.2.0/24"])
    assert config.allowed_networks == ("10.0.0.0/8", "192.0.2.0/24")
    with pytest.raises(ValueError):
        SandboxConfig(allowed_networks=["not a network"])


def test_config_from_the_environment_matches_the_sites_defaults(monkeypatch, tmp_path):
    from pathlib import Path

    from sandbox import SandboxConfig

    for key in ("SANDBOX_DATA_DIR", "SANDBOX_DATABASE_URL", "ACADEMY_SANDBOX_DATABASE_URL",
                "SANDBOX_ALLOWED_NETWORKS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ACADEMY_DATA_DIR", str(tmp_path))
    config = SandboxConfig.from_env()
    assert config.data_dir == tmp_path / "sandbox"
    assert config.database_url == f"sqlite:///{tmp_path / 'sandbox' / 'sandbox.db'}"
    monkeypatch.setenv("ACADEMY_SANDBOX_DATABASE_URL", "postgresql+psycopg://x@h/db")
    monkeypatch.setenv("SANDBOX_ALLOWED_NETWORKS", "10.1.0.0/16, 192.0.2.0/24")
    config = SandboxConfig.from_env(dicom_port=0)
    assert config.database_url == "postgresql+psycopg://x@h/db" and config.dicom_port == 0
    assert config.allowed_networks == ("10.1.0.0/16", "192.0.2.0/24")
    assert SandboxConfig().data_dir == Path("instance/sandbox")
