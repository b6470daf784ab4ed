"""The RIS through the API, the command line, lab scenarios and partition reset."""

from __future__ import annotations

import json

import pytest

from sandbox import ScenarioError
from sandbox.__main__ import main
from sandbox.ris import samples
from tests.sandbox.conftest import make_sandbox
from tests.sandbox.ris.conftest import schedule


def test_status_reports_the_hl7_listener(sandbox):
    status = sandbox.status()["hl7"]
    assert status["listening"] and status["port"] == sandbox.hl7_port != 0


def test_a_scenario_sets_up_procedures_endpoints_policy_and_messages(sandbox, rcode):
    p = samples.patient(88)
    summary = sandbox.apply_scenario(rcode, {
        "ris": {
            "policy": {"update_policy": "flag"},
            "procedures": [{"code": "XRWRIST", "modality": "DX", "description": "XR WRIST"}],
            "endpoints": [{"name": "PLACER", "host": "127.0.0.1", "port": 2599}],
            "messages": [samples.adt("{code}", "A04", p),
                         samples.orm("{code}", p, placer="SC1", procedure="XRWRIST",
                                     description="XR WRIST")],
        },
        "faults": {"wrong_station_ae": {"ae_title": "OLD_DX"}},
    })
    assert summary["hl7_messages"] == 2
    [order] = sandbox.orders(rcode)
    assert (order.modality, order.station_ae) == ("DX", f"{rcode}_DX")  # faults come after
    assert sandbox.hl7_endpoints(rcode)[0].name == "PLACER"
    assert {x.code: x.source for x in sandbox.procedures(rcode)}["XRWRIST"] == "partition"
    assert len(sandbox.hl7_queue(rcode)) == 1  # the status message for PLACER waits


@pytest.mark.parametrize("ris, where", [
    ({"nope": 1}, "ris: unknown key"),
    ({"procedures": [{"code": "X"}]}, "ris.procedures[0].modality"),
    ({"endpoints": [{"name": "A", "host": "h", "port": 0}]}, "ris.endpoints[0].port"),
    ({"policy": {"update_policy": "maybe"}}, "ris.policy.update_policy"),
    ({"messages": ["MSH|^~\\&|A|B|C|{code}|2025||ADT^A08|1|P|2.5.1\rPID|||NOSUCH"]},
     "ris.messages[0]: answered AE"),
])
def test_a_bad_ris_scenario_says_where(sandbox, rcode, ris, where):
    with pytest.raises(ScenarioError) as exc:
        sandbox.apply_scenario(rcode, {"ris": ris})
    assert where in str(exc.value)


def test_reset_forgets_everything_the_ris_knew(sandbox, rcode, person):
    schedule(sandbox, rcode, person, "RS1")
    sandbox.add_hl7_endpoint(rcode, "P", "127.0.0.1", 2599)
    sandbox.reset_partition(rcode)
    assert sandbox.orders(rcode) == [] and sandbox.ris_patients(rcode) == []
    assert sandbox.hl7_messages(rcode) == [] and sandbox.hl7_endpoints(rcode) == []


def test_the_command_line_sends_hl7_and_shows_the_worklist(tmp_path, capsys):
    data = tmp_path / "cli"
    args = ["--data-dir", str(data)]
    with make_sandbox(data, start=False, database_url=f"sqlite:///{data / 'sandbox.db'}") as sb:
        sb.create_partition("CLI1")
    p = samples.patient(99)
    (tmp_path / "adt.hl7").write_text(samples.adt("CLI1", "A04", p).replace("\r", "\n"))
    (tmp_path / "orm.hl7").write_text(samples.orm("CLI1", p, placer="CLIPL",
                                                  start="20250707070000"))
    (tmp_path / "bad.hl7").write_text(samples.adt("CLI1", "A08", {**p, "patient_id": "NO"}))
    assert main(["hl7", "send", "CLI1", str(tmp_path / "adt.hl7"), *args]) == 0
    assert "MSA|AA" in capsys.readouterr().out
    assert main(["hl7", "send", "CLI1", str(tmp_path / "orm.hl7"), *args]) == 0
    capsys.readouterr()
    assert main(["hl7", "send", "CLI1", str(tmp_path / "bad.hl7"), *args]) == 1
    captured = capsys.readouterr()
    assert "MSA|AE" in captured.out and "PID-3" in captured.err
    assert main(["worklist", "CLI1", "--station", "CLI1_CT", "--date", "20250701-", *args]) == 0
    [item] = json.loads(capsys.readouterr().out)
    assert item["PatientID"] == p["patient_id"] and item["ScheduledProcedureStepStartDate"] == \
        "20250707"
    assert main(["orders", "CLI1", *args]) == 0
    assert json.loads(capsys.readouterr().out)[0]["placer_number"] == "CLIPL"
    assert main(["hl7", "log", "CLI1", "--direction", "in", *args]) == 0
    assert [m["ack_code"] for m in json.loads(capsys.readouterr().out)] == ["AA", "AA", "AE"]
    assert main(["hl7", "send", "CLI1", "/no/such/file", *args]) != 0


def test_the_command_line_can_send_over_mllp(sandbox, rcode, tmp_path, capsys, person):
    (tmp_path / "m.hl7").write_text(samples.adt(rcode, "A04", person))
    host, port = sandbox.hl7_address
    assert main(["hl7", "send", rcode, str(tmp_path / "m.hl7"), "--mllp", f"{host}:{port}",
                 "--data-dir", str(tmp_path / "x")]) == 0
    assert "MSA|AA" in capsys.readouterr().out
    assert sandbox.ris_patients(rcode)[0].patient_id == person["patient_id"]
