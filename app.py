"""PACS Academy: `python app.py` runs the whole product on embedded defaults.

One process: the site under waitress, the sandbox's DICOM and HL7 listeners on threads, SQLite in the
data directory. `flask --app app ...` finds `create_app` here for the command-line tools.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from academy import create_app  # noqa: F401  (flask --app app uses the factory)

log = logging.getLogger("academy")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run PACS Academy: the site and its sandbox hospital.")
    parser.add_argument("--host", help="address to serve on (ACADEMY_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="web port (ACADEMY_PORT, default 5000)")
    parser.add_argument("--dicom-port", type=int, help="sandbox DICOM port (ACADEMY_DICOM_PORT, default 11112)")
    parser.add_argument("--hl7-port", type=int, help="sandbox HL7/MLLP port (ACADEMY_HL7_PORT, default 2575)")
    parser.add_argument("--data-dir", help="where the database, key and DICOM files live (ACADEMY_DATA_DIR, default instance/)")
    parser.add_argument("--threads", type=int, default=8, help="web worker threads (default 8)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for flag, variable in (("host", "ACADEMY_HOST"), ("port", "ACADEMY_PORT"), ("dicom_port", "ACADEMY_DICOM_PORT"),
                           ("hl7_port", "ACADEMY_HL7_PORT"), ("data_dir", "ACADEMY_DATA_DIR")):
        if getattr(args, flag) is not None:
            os.environ[variable] = str(getattr(args, flag))

    from waitress import create_server

    from academy import content, first_run, sandbox_link

    app = create_app()
    try:
        demo_accounts = first_run.prepare(app)
    except content.ContentError as exc:
        print(f"PACS Academy did not start: the content has problems. Fix them and start again.\n{exc}",
              file=sys.stderr)
        return 1
    box = sandbox_link.start(app)
    from academy.maintenance import Maintenance

    maintenance = Maintenance(app)
    maintenance.start()
    server = create_server(app, host=app.config["ACADEMY_HOST"], port=app.config["ACADEMY_PORT"],
                           threads=args.threads, ident="PACS Academy")

    def stop(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:  # from here on, Ctrl-C (or SIGTERM) at any moment stops everything cleanly
        url = f"http://{app.config['ACADEMY_HOST']}:{server.effective_port}/"
        print(f"\nPACS Academy is running at {url}", flush=True)
        status = box.status()
        print("Sandbox: " + ", ".join(f"{name.upper()} on port {part['port']}" for name, part in status.items()
                                      if "port" in part), flush=True)
        if demo_accounts:
            print("\nDemo accounts (passwords are shown only this once):")
            for account in demo_accounts:
                print(f"  {account.role:<11} {account.email:<40} {account.password}")
        else:
            print("Log in with your account (the demo accounts were printed on the first start).")
        print("Press Ctrl-C to stop.\n", flush=True)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        print("Stopping...", flush=True)
        maintenance.stop()
        server.close()
        box.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
