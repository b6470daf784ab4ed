"""The API the platform relies on: shape, validation, scenarios, remote use, the CLI."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from sandbox import Sandbox, ScenarioError
from sandbox.records import DimseResult, JournalEvent, PartitionInfo, StudyInfo
from tests.sandbox.conftest import make_sandbox


@pytest.mark.parametrize("bad", ["", "lab1", "TOOLONGXX", "LAB-1", "LAB 1", None, 7])
def test_partition_codes_are_validated_everywhere(sandbox, bad):
    with pytest.raises(ValueError, match="partition code"):
        sandbox.create_partition(bad)
    with pytest.raises(ValueError, match="partition code"):
        sandbox.journal(bad)
    with pytest.raises(ValueError, match="partition code"):
        sandbox.devices(bad)


def test_partitions_are_created_listed_shown_and_deleted(sandbox):
    info = sandbox.create_partition("API1")
    assert isinstance(info, PartitionInfo) and info.ae_titles["PACS"] == "API1_PACS"
    assert info.ae_titles["WS"] == "API1_WS" and info.ae_titles["RIS"] == "API1_RIS"
    with pytest.raises(ValueError, match="already exists"):
        sandbox.create_partition("API1")
    assert "API1" in [p.code for p in sandbox.list_partitions()]
    sandbox.generate("API1", seed=1, rows=32, columns=32, images_per_series=1)
    sandbox.delete_partition("API1")
    assert "API1" not in [p.code for p in sandbox.list_partitions()]
    assert not (sandbox.config.data_dir / "API1").exists()
    with pytest.raises(LookupError):
        sandbox.get_partition("API1")


def test_everything_returned_is_plain_data(sandbox, code):
    sandbox.generate(code, seed=2, rows=32, columns=32, images_per_series=1)
    for value in (sandbox.studies(code)[0], sandbox.instances(code)[0], sandbox.journal(code)[0],
                  sandbox.list_nodes(code)[0], sandbox.devices(code).echo(f"{code}_PACS"),
                  sandbox.storage_usage(code)):
        assert dataclasses.is_dataclass(value)
    assert isinstance(sandbox.studies(code)[0], StudyInfo)
    assert isinstance(sandbox.journal(code)[0], JournalEvent)
    status = sandbox.status()
    assert status["dicom"]["listening"] is True and status["dicom"]["port"] == sandbox.dicom_port


def test_the_journal_filters_by_kind_prefix_and_since(sandbox, code):
    sandbox.devices(code).echo(f"{code}_PACS")
    everything = sandbox.journal(code)
    assert {e.kind for e in sandbox.journal(code, kind="association.")} <= {
        "association.accepted", "association.released"}
    last = everything[-1].id
    sandbox.devices(code).echo(f"{code}_PACS")
    newer = sandbox.journal(code, since=last)
    assert newer and all(e.id > last for e in newer)
    assert sandbox.journal(code, since=everything[0].created_at)


def test_a_remote_sandbox_shares_state_and_drives_devices_against_the_listener(sandbox, code):
    """Same database and files, no listener here: every operation still works."""
    remote = Sandbox(dataclasses.replace(sandbox.config, dicom_port=sandbox.dicom_port))
    try:
        assert remote.status()["dicom"]["listening"] is False
        remote.add_node(code, "REMOTE", "127.0.0.1", 104)
        assert "REMOTE" in [n.ae_title for n in sandbox.list_nodes(code)]
        result = remote.devices(code).store(f"{code}_PACS", seed=3, rows=32, columns=32,
                                            images_per_series=2)
        assert isinstance(result, DimseResult) and result.ok and result.completed == 2
        [study] = sandbox.studies(code)
        moved = remote.devices(code).move(f"{code}_PACS", f"{code}_WS",
                                          StudyInstanceUID=study.study_uid)
        assert moved.ok and moved.completed == 2
        found = remote.devices(code).find(f"{code}_WS", PatientID="", StudyInstanceUID="")
        assert found.ok and found.matches[0]["StudyInstanceUID"] == study.study_uid
        got = remote.devices(code).get(f"{code}_PACS", StudyInstanceUID=study.study_uid)
        assert got.ok and got.completed == 2
    finally:
        remote.close()


def test_devices_refuse_unknown_nodes_without_connecting(sandbox, code):
    result = sandbox.devices(code).echo("NOBODY")
    assert not result.ok and "not a registered node" in result.message


SCENARIO = {
    "settings": {"accept_any_calling_ae": True},
    "nodes": [{"ae_title": "VIEWER", "host": "127.0.0.1", "port": 11113}],
    "patients": [{"key": "p1", "seed": 7},
                 {"key": "p2", "patient_id": "PAT002", "name": "DOE^JANE", "sex": "F"}],
    "studies": [{"patient": "p1", "modality": "CT", "seed": 1, "images": 2, "rows": 32,
                 "columns": 32, "description": "CT HEAD", "accession": "A1"},
                {"patient": "p2", "modality": "MR", "seed": 2, "images": 1, "rows": 32,
                 "columns": 32, "store": "workstation"}],
    "faults": {"delay_responses": {"seconds": 0.1}},
    "routing": [{"destination_ae": "VIEWER", "modality": "CT"}],
}


def test_a_scenario_sets_a_partition_up(sandbox, code):
    summary = sandbox.apply_scenario(code, SCENARIO)
    assert len(summary["studies"]) == 2
    assert sandbox.get_partition(code).accept_any_calling_ae
    assert "VIEWER" in [n.ae_title for n in sandbox.list_nodes(code)]
    [ct] = sandbox.studies(code)
    assert ct.study_description == "CT HEAD" and ct.accession_number == "A1"
    [mr] = sandbox.studies(code, store="workstation")
    assert mr.patient_id == "PAT002" and mr.patient_name == "DOE^JANE"
    assert [f.kind for f in sandbox.list_faults(code)] == ["delay_responses"]
    assert sandbox.routing_rules(code)[0].destination_ae == "VIEWER"
    assert sandbox.journal(code, kind="scenario.applied")


@pytest.mark.parametrize("scenario, where", [
    ({"cakes": []}, "unknown key"),
    ({"nodes": [{"ae_title": "X", "host": "h"}]}, "nodes[0]: missing port"),
    ({"nodes": [{"ae_title": "X", "host": "h", "port": 0}]}, "nodes[0].port"),
    ({"studies": [{"patient": "ghost"}]}, "studies[0].patient"),
    ({"studies": [{"modality": "PET-MRI-XYZ"}]}, "studies[0].modality"),
    ({"studies": [{"images": 0}]}, "studies[0].images"),
    ({"faults": {"delay_responses": {"seconds": "soon"}}}, "faults.delay_responses"),
    ({"faults": {"explode": {}}}, "unknown key"),
    ({"settings": {"accept_any_calling_ae": "yes"}}, "settings.accept_any_calling_ae"),
    ({"routing": [{"modality": "CT"}]}, "routing[0]: missing destination_ae"),
    ({"studies": [{"import": "/no/such/folder"}]}, "studies[0].import"),
    ("not a mapping", "expected a mapping"),
])
def test_a_bad_scenario_raises_a_clear_error_and_changes_nothing(sandbox, code, scenario, where):
    with pytest.raises(ScenarioError) as err:
        sandbox.apply_scenario(code, scenario)
    assert where in str(err.value)
    assert sandbox.studies(code) == [] and sandbox.list_faults(code) == []


def test_importing_a_folder_keeps_good_files_and_reports_bad_ones(sandbox, code, tmp_path):
    from sandbox import synth

    folder = tmp_path / "incoming"
    synth.write_study(synth.generate_study(9, rows=32, columns=32, images_per_series=2), folder)
    (folder / "notes.txt").write_text("not dicom")
    result = sandbox.import_folder(code, folder)
    assert result["imported"] == 2 and len(result["skipped"]) == 1
    assert "notes.txt" in result["skipped"][0]["path"]
    assert sandbox.studies(code)[0].instance_count == 2


def test_the_sandbox_never_imports_flask_or_the_platform():
    code = ("import sys, sandbox, sandbox.__main__, sandbox.archive.services; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'academy')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_cli_manages_partitions_nodes_and_data(tmp_path, capsys):
    from sandbox.__main__ import main

    args = ["--data-dir", str(tmp_path)]
    assert main(["partition", "create", "CLI1", *args]) == 0
    assert main(["node", "add", "CLI1", "VIEWER", "127.0.0.1", "11113", *args]) == 0
    assert main(["generate", "CLI1", "--studies", "2", "--images", "1", *args]) == 0
    assert main(["partition", "show", "CLI1", *args]) == 0
    out = capsys.readouterr().out
    assert '"VIEWER"' in out and '"instances": 2' in out
    assert main(["node", "remove", "CLI1", "VIEWER", *args]) == 0
    assert main(["partition", "create", "bad", *args]) == 2
    assert "invalid partition code" in capsys.readouterr().err
    assert main(["partition", "reset", "CLI1", *args]) == 0
    assert main(["partition", "delete", "CLI1", *args]) == 0


def test_the_cli_changes_a_running_servers_behaviour_without_restart(tmp_path):
    from sandbox.__main__ import main
    from tests.sandbox.conftest import associate

    with make_sandbox(tmp_path, database_url=f"sqlite:///{tmp_path / 'sandbox.db'}",
                      data_dir=tmp_path) as sb:
        main(["partition", "create", "LIVE", "--data-dir", str(tmp_path)])
        assert associate(sb, "LIVE_PACS", calling="NEWBIE").is_rejected
        main(["node", "add", "LIVE", "NEWBIE", "127.0.0.1", "104", "--data-dir", str(tmp_path)])
        assoc = associate(sb, "LIVE_PACS", calling="NEWBIE")
        assert assoc.is_established
        assoc.release()


def test_serve_runs_until_sigterm(tmp_path):
    import os
    import signal

    from tests.sandbox.conftest import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--dicom-port", str(port),
                             "--hl7-port", "0", "--data-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        line = proc.stdout.readline()
        assert f":{port}" in line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_importing_a_bare_dataset_without_part10_header(sandbox, code, tmp_path):
    from pydicom.filewriter import write_dataset
    from pydicom.filebase import DicomFileLike

    from tests.sandbox.conftest import small_study

    ds = small_study(10)[0]
    folder = tmp_path / "bare"
    folder.mkdir()
    with open(folder / "IMG0001", "wb") as fh:  # ACR-NEMA style: implicit VR, no preamble/meta
        fp = DicomFileLike(fh)
        fp.is_little_endian, fp.is_implicit_VR = True, True
        write_dataset(fp, ds)
    result = sandbox.import_folder(code, folder)
    assert result["imported"] == 1, result
    [inst] = sandbox.instances(code)
    assert inst.sop_instance_uid == ds.SOPInstanceUID
