"""Starting a lab run (a fresh partition built from the scenario) and grading a run whose journal holds
10,000 events, printed next to an empty request to the site measured in the same run.

Usage: python benchmarks/lab_grading.py [--events N] [--repeat N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import reference_request, report, throwaway_app, timed  # noqa: E402

LAB = {
    "id": "bench-lab", "track": "BENCH", "domain": "d0", "title": "Benchmark lab", "level": "practice",
    "minutes": 10, "prerequisites": [], "objectives": ["x"], "instructions": "x",
    "scenario": {"studies": [{"modality": "CT", "seed": 1, "images": 4, "description": "CT CHEST"},
                             {"modality": "MR", "seed": 2, "images": 3, "description": "MR BRAIN"}],
                 "nodes": [{"ae_title": "{WS_AE}", "host": "127.0.0.1", "port": "{DICOM_PORT}"}]},
    "checks": [
        {"id": "echo", "type": "echo_performed", "params": {"calling_ae": "{WS_AE}"}, "points": 5, "pass": "ok", "fail": "no"},
        {"id": "find", "type": "find_performed", "params": {"level": "STUDY", "keys": ["PatientID"]}, "points": 5, "pass": "ok", "fail": "no"},
        {"id": "move", "type": "move_completed", "params": {"destination": "{WS_AE}"}, "points": 5, "pass": "ok", "fail": "no"},
        {"id": "ws", "type": "study_at_workstation", "params": {"modality": "CT"}, "points": 5, "pass": "ok", "fail": "no"},
        {"id": "node", "type": "node_registered", "params": {"ae_title": "VIEWER"}, "points": 5, "pass": "ok", "fail": "no"},
    ],
    "solution": [{"do": "echo", "node": "{PACS_AE}"}],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    import sandbox
    from sandbox import journal
    from academy.auth import service
    from academy.extensions import db
    from academy.labs import runs
    from academy.labs.workspace import connection
    from academy.models import Domain, Lab, Track, utcnow

    folder = Path(tempfile.mkdtemp(prefix="academy-bench-sandbox-"))
    box = sandbox.Sandbox(sandbox.SandboxConfig(database_url=f"sqlite:///{folder / 'sandbox.db'}",
                                                data_dir=folder / "files", dicom_port=0, hl7_port=0, fsync=False))
    box.start()
    app = throwaway_app()
    app.extensions["academy.sandbox"] = box
    try:
        with app.test_request_context():
            track = Track(code="BENCH", title="Benchmark")
            track.domains = [Domain(key="d0", title="D0", weight=100)]
            lab = Lab(key="bench-lab", track=track, domain=track.domains[0], title="Benchmark lab", level="practice",
                      spec=LAB, content_hash="x")
            db.session.add(lab)
            org = service.get_or_create_organization(db.session, "Bench Hospital")
            user = service.create_user(db.session, email="bench@example.org", password="benchmark-pass",
                                       role="trainee", organization=org)
            db.session.commit()
            reference = reference_request(app)
            started = []

            def start():
                run = runs.start(db.session, box, user.id, lab, utcnow(), connection)
                db.session.commit()
                started.append(run)
                runs.abandon(db.session, run, utcnow())
                db.session.commit()

            provisioning = statistics.median(timed(start, args.repeat))
            run = runs.start(db.session, box, user.id, lab, utcnow(), connection)
            db.session.commit()
            code = run.partition_code
            box.devices(code).echo(f"{code}_PACS")
            with box.db.engine.begin() as conn:  # the trainee's busy afternoon: many operations in the journal
                for n in range(args.events):
                    journal.record(conn, code, "dimse.c-find", f"C-FIND STUDY {n}", status=0, association=f"a{n // 10}",
                                   calling_ae=f"{code}_WS", called_ae=f"{code}_PACS", level="STUDY",
                                   identifier={"PatientName": f"P{n}*"}, matches=n % 3)
            events = len(box.journal(code, since=run.journal_mark))
            grading = statistics.median(timed(lambda: (runs.grade(db.session, box, run, utcnow(), connection(code)),
                                                       db.session.commit()), args.repeat))
    finally:
        box.close()
    print(f"lab with 2 generated studies and 5 checks; grading over {events} journal events; {args.repeat} runs each")
    report([("start a run (partition + scenario)", provisioning), (f"grade a run ({events} events)", grading)], reference)


if __name__ == "__main__":
    main()
