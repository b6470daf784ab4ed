"""Long fuzzing run: the properties of tests/fuzz/ (and the HL7 strategies of tests/sandbox/ris/test_fuzz.py)
with many more examples, counting instead of stopping at the first failure.

    .venv/bin/python benchmarks/fuzz_long.py [--examples 2000] [--targets dicom,mllp,content,forms]

Targets:
  dicom    mutated A-ASSOCIATE-RQ and P-DATA-TF PDUs and random bytes at the DICOM listener
  mllp     mutated and random HL7 messages, framed, at the MLLP listener (plus junk connections)
  content  mutated fixture content trees through loader.load + rules.check
  forms    random and mutated forms and routes, for each role (examples are split across the roles)

Per target it prints cases, crashes (a property broken: a 500, an exception out of the loader, the listener
no longer serving, a wrong ACK), unhandled exceptions (escaped a server thread or logged with a
traceback, a thread dying), hangs (no answer and no hang-up in time; a content case over 20 s), and library
errors (pynetdicom's state machine logging an error it handled itself, e.g. an even presentation-context
id, then aborting: counted apart), with the first few examples of each.
"""
from __future__ import annotations

import argparse
import collections
import logging
import signal
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings

CASE_SECONDS = 20  # a content or form case slower than this is a hang


class Tally:
    def __init__(self, name: str):
        self.name, self.cases, self.started, self.seconds = name, 0, time.perf_counter(), 0.0
        self.kinds: dict[str, list[str]] = collections.defaultdict(list)

    def add(self, kind: str, detail: str) -> None:
        self.kinds[kind].append(detail[:500])

    def line(self) -> str:
        counts = {k: len(self.kinds[k]) for k in ("crashes", "unhandled", "hangs", "library")}
        return (f"{self.name:<8} {self.cases:>7} {counts['crashes']:>8} {counts['unhandled']:>10} {counts['hangs']:>6} "
                f"{counts['library']:>8} {self.seconds:>8.1f}")


def _settings(examples: int):
    return settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def run_content(examples: int, tally: Tally) -> None:
    from tests.fuzz.strategies import (
        apply_mutation,
        check_content,
        content_mutations,
        copy_fixture_tree,
    )

    @_settings(examples)
    @given(mutations=content_mutations)
    def case(mutations):
        tally.cases += 1
        with tempfile.TemporaryDirectory() as folder:
            root = copy_fixture_tree(Path(folder))
            for mutation in mutations:
                apply_mutation(root, mutation)
            signal.alarm(CASE_SECONDS)
            try:
                check_content(root)
            except _Timeout:
                tally.add("hangs", repr(mutations))
            except Exception as exc:  # noqa: BLE001 - counting is the point
                tally.add("crashes", f"{exc!r} at {traceback.extract_tb(exc.__traceback__)[-1]} for {mutations!r}")
            finally:
                signal.alarm(0)

    case()


def _sandbox(folder: Path):
    from sandbox import Sandbox, SandboxConfig

    folder.mkdir(parents=True, exist_ok=True)
    sb = Sandbox(SandboxConfig(database_url=f"sqlite:///{folder / 'sandbox.db'}", data_dir=folder / "files",
                               dicom_port=0, hl7_port=0, fsync=False, acse_timeout=0.5, dimse_timeout=1.0,
                               network_timeout=1.0))
    sb.start()
    return sb


def run_dicom(examples: int, tally: Tally, folder: Path) -> None:
    from tests.fuzz.listeners import DicomPeer, Troubles
    from tests.fuzz.strategies import dicom_stream

    sb = _sandbox(folder / "dicom")
    sb.create_partition("FZD", accept_any_calling_ae=True)
    peer = DicomPeer(sb)
    try:
        with Troubles() as troubles, warnings.catch_warnings():
            warnings.simplefilter("ignore")

            @_settings(examples)
            @given(data=dicom_stream())
            def case(data):
                tally.cases += 1
                peer.send(data)
                peer.drain()
                if tally.cases % 250 == 0 and not peer.alive():
                    tally.add("crashes", f"the listener stopped serving after case {tally.cases}")

            case()
            peer.drain(wait=True)
            if not peer.alive():
                tally.add("crashes", "the listener stopped serving at the end")
        for text in troubles.seen:
            tally.add("unhandled", text)
        for text in troubles.library:
            tally.add("library", text)
        for _ in range(peer.hangs):
            tally.add("hangs", "a connection neither answered nor closed")
    finally:
        sb.close()


def run_mllp(examples: int, tally: Tally, folder: Path) -> None:
    from hypothesis import strategies as st

    from tests.fuzz.listeners import Troubles, mllp_exchange
    from tests.sandbox.ris.test_fuzz import messages

    sb = _sandbox(folder / "mllp")
    sb.create_partition("FZ1")
    try:
        with Troubles() as troubles:
            @_settings(examples)
            @given(text=messages, junk=st.one_of(st.just(b""), st.binary(max_size=200)))
            def case(text, junk):
                tally.cases += 1
                try:
                    outcome = mllp_exchange(sb, text, junk)
                except OSError as exc:
                    outcome = f"connection refused or reset: {exc!r}"
                if outcome == "hang":
                    tally.add("hangs", repr(text))
                elif outcome not in ("ack", "closed", "skipped"):
                    tally.add("crashes", f"{outcome} for {text!r}")

            case()
            if mllp_exchange(sb, "MSH|^~\\&|A|B|C|FZ1|20260101||ADT^A04|ALIVE|P|2.5\rPID|1||P1||DOE^J\r") != "ack":
                tally.add("crashes", "the MLLP listener stopped answering")
        for text in troubles.seen:
            tally.add("unhandled", text)
    finally:
        sb.close()


def _forms_role(app, session, role: str, examples: int, tally: Tally) -> None:
    from tests.fuzz.harness import Captured, case_problems, strategy_for

    errors = Captured()
    app.logger.addHandler(errors)

    @_settings(examples)
    @given(case=strategy_for(session))
    def case(case):
        tally.cases += 1
        signal.alarm(CASE_SECONDS)
        try:
            for problem in case_problems(app, session, errors, case):
                tally.add("unhandled" if problem.startswith("logged error") else "crashes", f"{role}: {problem}")
        except _Timeout:
            tally.add("hangs", f"{role}: {case[2]} {case[0]}")
        except Exception as exc:  # noqa: BLE001 - counting is the point
            tally.add("crashes", f"{role}: {exc!r}")
        finally:
            signal.alarm(0)

    try:
        case()
    finally:
        app.logger.removeHandler(errors)


def run_forms(examples: int, tally: Tally, folder: Path) -> None:
    from academy import content, create_app, database
    from academy.extensions import db
    from tests.conftest import base_config, create_accounts
    from tests.fuzz.harness import Session, database_problems

    data_dir = folder / "site"
    data_dir.mkdir()
    app = create_app(base_config(data_dir, f"sqlite:///{data_dir / 'academy.db'}"))
    database.upgrade(app)
    with app.app_context():
        content.import_bundled(app)
        accounts = create_accounts()
    sb = _sandbox(folder / "forms-sandbox")
    app.extensions["academy.sandbox"] = sb
    logging.getLogger("academy").setLevel(logging.WARNING)
    roles = ("trainee", "instructor", "org_admin", "site_admin")
    try:
        for role in roles:
            _forms_role(app, Session(app, app.test_client(), accounts[role]), role, max(1, examples // len(roles)),
                        tally)
        for problem in database_problems(app):
            tally.add("crashes", problem)
    finally:
        sb.close()
        with app.app_context():
            db.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=2000, help="cases per target (default 2000)")
    parser.add_argument("--targets", default="dicom,mllp,content,forms")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    logging.basicConfig(level=logging.CRITICAL)
    logging.getLogger().setLevel(logging.CRITICAL)  # the handlers of tests/fuzz count; no console noise
    runners = {"dicom": run_dicom, "mllp": run_mllp, "content": run_content, "forms": run_forms}
    tallies = []
    with tempfile.TemporaryDirectory(prefix="academy-fuzz-") as folder:
        for name in args.targets.split(","):
            tally = Tally(name)
            tallies.append(tally)
            runner = runners[name]
            print(f"fuzzing {name} ({args.examples} examples)...", flush=True)
            if name == "content":
                runner(args.examples, tally)
            else:
                runner(args.examples, tally, Path(folder))
            tally.seconds = time.perf_counter() - tally.started
            print(tally.line(), flush=True)
    print(f"\n{'target':<8} {'cases':>7} {'crashes':>8} {'unhandled':>10} {'hangs':>6} {'library':>8} {'seconds':>8}")
    for tally in tallies:
        print(tally.line())
    bad = 0
    for tally in tallies:
        for kind in ("crashes", "unhandled", "hangs", "library"):
            for detail in tally.kinds[kind][:3]:
                print(f"  {tally.name} {kind}: {detail}")
            if kind != "library":
                bad += len(tally.kinds[kind])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
