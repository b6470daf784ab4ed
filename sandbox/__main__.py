"""`python -m sandbox serve|partition|node|generate|import|fsck` (see the README's sandbox section).

Every command talks to the database and file store named by --database-url and
--data-dir (or SANDBOX_*/ACADEMY_* environment variables), so a running server
sees the change on its next association: no restart.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path

from sandbox import Sandbox, SandboxConfig


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="file store directory (default instance/sandbox)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default sqlite under the data dir)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the DICOM listener until SIGINT/SIGTERM")
    _common(serve)
    serve.add_argument("--host", default=None)
    serve.add_argument("--dicom-port", type=int, default=None)
    serve.add_argument("--hl7-port", type=int, default=None)

    part = sub.add_parser("partition", help="create, show, reset or delete a partition")
    part.add_argument("action", choices=("create", "show", "reset", "delete", "list"))
    part.add_argument("code", nargs="?")
    part.add_argument("--accept-any-calling-ae", action="store_true")
    _common(part)

    node = sub.add_parser("node", help="add or remove a node in a partition's registry")
    node.add_argument("action", choices=("add", "remove", "list"))
    node.add_argument("code")
    node.add_argument("ae_title", nargs="?")
    node.add_argument("host", nargs="?")
    node.add_argument("port", nargs="?", type=int)
    node.add_argument("--description", default="")
    _common(node)

    gen = sub.add_parser("generate", help="generate synthetic studies into a partition")
    gen.add_argument("code")
    gen.add_argument("--studies", type=int, default=1)
    gen.add_argument("--modality", default="CT")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--images", type=int, default=3)
    _common(gen)

    imp = sub.add_parser("import", help="import a folder of DICOM files into a partition")
    imp.add_argument("code")
    imp.add_argument("path", type=Path)
    _common(imp)
    fsck = sub.add_parser("fsck", help="check (and --repair) a partition's index against its files")
    fsck.add_argument("code", nargs="?")
    fsck.add_argument("--all", action="store_true", help="every partition")
    fsck.add_argument("--repair", action="store_true",
                      help="remove or re-index orphan files, remove rows without files")
    fsck.add_argument("--min-age", type=float, default=60.0,
                      help="leave orphan/temp files younger than this many seconds alone "
                           "(a store in progress); 0 when no server is running (default 60)")
    _common(fsck)
    from sandbox.ris import cli as ris_cli  # hl7, worklist, orders (sandbox/ris/cli.py)

    ris_cli.add_commands(sub, _common)
    return parser


def _config(args) -> SandboxConfig:
    overrides = {"data_dir": args.data_dir, "database_url": args.database_url}
    if args.data_dir and not args.database_url and not _env_db():
        overrides["database_url"] = f"sqlite:///{Path(args.data_dir) / 'sandbox.db'}"
    for name in ("host", "dicom_port", "hl7_port"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    return SandboxConfig.from_env(**overrides)


def _env_db() -> bool:
    import os

    return any(os.environ.get(k) for k in ("SANDBOX_DATABASE_URL", "ACADEMY_SANDBOX_DATABASE_URL"))


def _print(value) -> None:
    print(json.dumps(value, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sb = Sandbox(_config(args))
    try:
        return _run(sb, args)
    except (ValueError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        sb.close()


def _run(sb: Sandbox, args) -> int:
    from sandbox.ris import cli as ris_cli

    if args.command in ris_cli.COMMANDS:
        return ris_cli.run(sb, args)
    if args.command == "serve":
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        sb.start()
        print(f"sandbox DICOM listening on {sb.config.host}:{sb.dicom_port} "
              f"(AE titles <CODE>_PACS, <CODE>_WS, <CODE>_RIS); HL7/MLLP on "
              f"{sb.config.host}:{sb.hl7_port}; Ctrl-C stops", flush=True)
        stop.wait()
        return 0
    if args.command == "partition":
        if args.action == "list":
            _print([asdict(p) for p in sb.list_partitions()])
            return 0
        if not args.code:
            raise ValueError("partition code required")
        if args.action == "create":
            _print(asdict(sb.create_partition(
                args.code, accept_any_calling_ae=args.accept_any_calling_ae)))
        elif args.action == "show":
            info = asdict(sb.get_partition(args.code))
            info["nodes"] = [asdict(n) for n in sb.list_nodes(args.code)]
            info["faults"] = [asdict(f) for f in sb.list_faults(args.code)]
            info["usage"] = asdict(sb.storage_usage(args.code))
            _print(info)
        elif args.action == "reset":
            sb.reset_partition(args.code)
            print(f"partition {args.code} reset")
        else:
            sb.delete_partition(args.code)
            print(f"partition {args.code} deleted")
        return 0
    if args.command == "node":
        if args.action == "list":
            _print([asdict(n) for n in sb.list_nodes(args.code)])
        elif args.action == "add":
            if not (args.ae_title and args.host and args.port):
                raise ValueError("node add needs CODE AE HOST PORT")
            _print(asdict(sb.add_node(args.code, args.ae_title, args.host, args.port,
                                      args.description)))
        else:
            if not args.ae_title:
                raise ValueError("node remove needs CODE AE")
            sb.remove_node(args.code, args.ae_title)
            print(f"node {args.ae_title} removed from {args.code}")
        return 0
    if args.command == "generate":
        uids = sb.generate(args.code, studies=args.studies, seed=args.seed,
                           modality=args.modality, images_per_series=args.images)
        _print({"studies": uids})
        return 0
    if args.command == "fsck":
        return _fsck(sb, args)
    if args.command == "import":
        _print(sb.import_folder(args.code, args.path))
        return 0
    return 1


def _fsck(sb: Sandbox, args) -> int:
    """0: consistent (or everything found repaired); 1: problems remain."""
    if bool(args.all) == bool(args.code):
        raise ValueError("fsck needs a partition CODE or --all (not both)")
    if args.all:
        reports = sb.fsck_all(args.repair, min_age=args.min_age)
    else:
        reports = [sb.fsck(args.code, args.repair, min_age=args.min_age)]
    _print([r.as_dict() for r in reports])
    for r in reports:
        print(f"fsck {r.code}: {r.rows_checked} rows, {r.files_checked} files, "
              f"{len(r.problems)} problem(s), {len(r.unresolved)} unresolved"
              + (f", {len(r.skipped_recent)} recent file(s) left alone" if r.skipped_recent
                 else ""), file=sys.stderr)
    return 0 if all(r.consistent for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
