"""The sandbox never opens a connection outside loopback and the allowed networks, whatever asks it to.

Through the public `sandbox` API (what the platform uses) and through the PACS administration console,
every way to make the sandbox connect somewhere is aimed at TEST-NET addresses (RFC 5737, never
routed) written several ways. A recorder on socket connect() proves the refusal happens before any
connection is attempted, not because the address happens to be unreachable.
"""
from __future__ import annotations

import ipaddress
import itertools
import socket
import uuid

import pytest

import sandbox
from tests.security.conftest import login, token_of

# 192.0.2.1 written as an IPv4-mapped IPv6 address, a decimal integer, hex; and a TEST-NET-2 address
FAR_HOSTS = ["192.0.2.1", "::ffff:192.0.2.1", "3221225985", "0xC0000201", "198.51.100.7"]
_codes = itertools.count(1)


@pytest.fixture
def attempts(monkeypatch):
    """Every connect() made in this process while the test runs (the sandbox's threads included)."""
    made: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def record(address):
        host = address[0] if isinstance(address, tuple) else str(address)
        made.append(host)

    def connect(self, address):
        record(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        record(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return made


def outside(made: list[str]) -> list[str]:
    found = []
    for host in made:
        try:
            ip = ipaddress.ip_address(host.split("%")[0])
        except ValueError:
            found.append(host)
            continue
        mapped = getattr(ip, "ipv4_mapped", None) or ip
        if not mapped.is_loopback:
            found.append(host)
    return found


@pytest.fixture
def part(box):
    code = f"SEC{next(_codes)}{uuid.uuid4().hex[:4].upper()}"
    box.create_partition(code, accept_any_calling_ae=True)
    yield code
    box.delete_partition(code)


@pytest.mark.parametrize("host", FAR_HOSTS)
def test_echo_move_forward_and_commitment_to_a_far_node_never_connect(box, part, attempts, host):
    box.add_node(part, "FAR", host, 104)
    box.add_node(part, f"{part}_WS", "127.0.0.1", 11113)
    [study] = box.generate(part, seed=7, images_per_series=1, rows=32, columns=32)
    devices = box.devices(part)
    echo = devices.echo("FAR")
    assert not echo.ok and ("not loopback" in echo.message or "cannot resolve" in echo.message), echo.message
    moved = devices.move(f"{part}_PACS", "FAR", StudyInstanceUID=study)
    assert not moved.ok
    assert any("not loopback" in e.summary or "cannot resolve" in e.summary
               for e in box.journal(part, kind="dimse.c-move")), [e.summary for e in box.journal(part)]
    # a routing rule forwards what arrives to FAR: the job waits, with the reason, and connects nowhere
    box.add_routing_rule(part, "FAR")
    devices.store(f"{part}_PACS", seed=8, images_per_series=1, rows=32, columns=32)
    box.run_forward_queue(part)
    jobs = box.forward_queue(part)
    assert jobs and all(j.state != "done" for j in jobs)
    assert any("not loopback" in (j.last_error or "") or "cannot resolve" in (j.last_error or "") for j in jobs), jobs
    assert not outside(attempts), f"connections attempted to {outside(attempts)}"


def test_an_hl7_endpoint_outside_loopback_is_never_contacted(box, part, attempts):
    box.add_hl7_endpoint(part, "FAR", "192.0.2.1", 2575)
    patient = {"patient_id": "NET1", "name": "NET^ONE", "birth_date": "19700101", "sex": "F", "issuer": "ACADEMY_GH"}
    assert box.send_hl7(part, sandbox.build_adt(part, "A04", patient)).code == "AA"
    box.send_hl7(part, sandbox.build_orm(part, patient, placer="NETPL1"))
    box.run_hl7_queue(part)
    queued = box.hl7_queue(part)
    assert queued, "the order should have queued an outbound message to FAR"
    for message in queued:
        assert message.state != "sent" and "not loopback" in message.last_error, message
    assert not outside(attempts), f"connections attempted to {outside(attempts)}"


def test_allowing_one_network_does_not_open_the_others(tmp_path, attempts):
    config = sandbox.SandboxConfig(database_url=f"sqlite:///{tmp_path / 's.db'}", data_dir=tmp_path / "f",
                                   dicom_port=0, hl7_port=0, fsync=False, allowed_networks=("10.0.0.0/8",),
                                   acse_timeout=2, dimse_timeout=2, network_timeout=2)
    from sandbox.netpolicy import DestinationRefused, check_destination

    for host in FAR_HOSTS + ["169.254.169.254", "0.0.0.0", "::", "fe80::1"]:
        with pytest.raises(DestinationRefused):
            check_destination(host, config.allowed_networks)
    assert not outside(attempts)


def test_the_academy_passes_sandbox_allowed_networks_to_the_sandbox(tmp_path):
    from academy.config import load_config

    settings = load_config({"ACADEMY_DATA_DIR": str(tmp_path), "ACADEMY_SECRET_KEY": "x",
                            "SANDBOX_ALLOWED_NETWORKS": "10.20.0.0/16"})
    from flask import Flask

    from academy import sandbox_link

    app = Flask("check")
    app.config.update(settings)
    assert sandbox_link.config_for(app).allowed_networks == ("10.20.0.0/16",)
    app.config["ACADEMY_ALLOWED_NETWORKS"] = ""
    assert sandbox_link.config_for(app).allowed_networks == ()


def test_a_trainee_cannot_make_the_sandbox_connect_out_through_the_consoles(app, world, box, attempts):
    from academy.extensions import db
    from academy.models import LabRun

    with app.app_context():
        code = db.session.get(LabRun, world.ids["run_id"]).partition_code
    client = login(app, world.accounts["trainee"])
    run = world.ids["run_id"]
    admin, dicom = f"/runs/{run}/console/admin", f"/runs/{run}/console/dicom"
    token = token_of(client, admin)
    response = client.post(admin, data={"csrf_token": token, "action": "add-node", "add-node-csrf_token": token,
                                        "add-node-ae_title": "FAR", "add-node-host": "192.0.2.1",
                                        "add-node-port": "104"})
    assert response.status_code in (200, 302, 400)
    if "FAR" in {n.ae_title for n in box.list_nodes(code)}:
        for action, fields in (("echo", {"echo-node": "FAR", "echo-device": "WS"}),
                               ("move", {"retrieve-node": f"{code}_PACS", "retrieve-destination": "FAR",
                                         "retrieve-device": "WS", "retrieve-level": "STUDY",
                                         "retrieve-StudyInstanceUID": box.studies(code)[0].study_uid})):
            prefix = "retrieve" if action == "move" else action
            body = client.post(dicom, data={"csrf_token": token, "action": action, f"{prefix}-csrf_token": token,
                                            **fields}).get_data(as_text=True)
            assert "Success" not in body or action == "move", body[-500:]
    assert not outside(attempts), f"connections attempted to {outside(attempts)}"
