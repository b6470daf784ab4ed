"""`python -m sandbox hl7|worklist|orders ...` (hooked into sandbox/__main__.py).

  python -m sandbox hl7 send CODE FILE [--mllp HOST:PORT]   send a message, print its ACK
  python -m sandbox hl7 log CODE [--direction in|out]       the partition's message log
  python -m sandbox hl7 queue CODE [--retry]                outbound messages waiting
  python -m sandbox hl7 endpoint add|remove|list CODE [NAME HOST PORT]
  python -m sandbox worklist CODE [--station AE] [--modality CT] [--date YYYYMMDD[-YYYYMMDD]]
  python -m sandbox orders CODE [--status SC]
FILE may use <CR>, <LF> or <CR><LF> between segments; "-" reads standard input.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

COMMANDS = ("hl7", "worklist", "orders")


def add_commands(sub, common) -> None:
    hl7 = sub.add_parser("hl7", help="send HL7 to a partition's RIS, read its message log")
    hl7.add_argument("action", choices=("send", "log", "queue", "endpoint"))
    hl7.add_argument("args", nargs="*", help="send: CODE FILE; log/queue: CODE; "
                     "endpoint: add|remove|list CODE [NAME HOST PORT]")
    hl7.add_argument("--mllp", help="send over MLLP to HOST:PORT instead of directly")
    hl7.add_argument("--direction", choices=("in", "out"))
    hl7.add_argument("--retry", action="store_true", help="queue: make waiting messages due now")
    common(hl7)
    wl = sub.add_parser("worklist", help="show a partition's Modality Worklist")
    wl.add_argument("code")
    wl.add_argument("--station", help="Scheduled Station AE Title (wildcards * ?)")
    wl.add_argument("--modality")
    wl.add_argument("--date", help="SPS start date or range, e.g. 20250101-20250131")
    wl.add_argument("--patient-id")
    wl.add_argument("--accession")
    common(wl)
    od = sub.add_parser("orders", help="list a partition's orders")
    od.add_argument("code")
    od.add_argument("--status", choices=("SC", "IP", "CM", "DC", "CA"))
    common(od)


def _print(value) -> None:
    print(json.dumps(value, indent=2, default=str))


def run(sb, args) -> int:
    if args.command == "worklist":
        keys = {k: v for k, v in (("ScheduledStationAETitle", args.station),
                                  ("Modality", args.modality),
                                  ("ScheduledProcedureStepStartDate", args.date),
                                  ("PatientID", args.patient_id),
                                  ("AccessionNumber", args.accession)) if v}
        _print(sb.worklist(args.code, **keys))
        return 0
    if args.command == "orders":
        _print([asdict(o) for o in sb.orders(args.code, status=args.status)])
        return 0
    rest = list(args.args)
    if args.action == "send":
        if len(rest) != 2:
            raise ValueError("hl7 send needs CODE FILE")
        code, path = rest
        from sandbox.ris.hl7text import decode

        try:
            text = decode(sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes())
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror}") from None
        if args.mllp:
            from sandbox.ris import mllp

            host, _, port = args.mllp.rpartition(":")
            ack = mllp.send(host or "127.0.0.1", int(port), text)
            print(ack.replace("\r", "\n"))
            from sandbox.ris.outbound import ack_code_of

            return 0 if ack_code_of(ack) == "AA" else 1
        result = sb.send_hl7(code, text)
        print(result.ack.replace("\r", "\n"))
        if result.error:
            print(f"{result.code}: {result.error['location']} {result.error['reason']}",
                  file=sys.stderr)
        return 0 if result.code == "AA" else 1
    if args.action in ("log", "queue"):
        if len(rest) != 1:
            raise ValueError(f"hl7 {args.action} needs CODE")
        if args.action == "queue":
            if args.retry:
                print(f"{sb.retry_hl7_queue(rest[0])} message(s) made due", file=sys.stderr)
            _print([asdict(m) for m in sb.hl7_queue(rest[0])])
        else:
            _print([asdict(m) for m in sb.hl7_messages(rest[0], direction=args.direction)])
        return 0
    # endpoint
    if not rest or rest[0] not in ("add", "remove", "list") or len(rest) < 2:
        raise ValueError("hl7 endpoint add|remove|list CODE [NAME HOST PORT]")
    action, code = rest[0], rest[1]
    if action == "list":
        _print([asdict(e) for e in sb.hl7_endpoints(code)])
    elif action == "add":
        if len(rest) != 5:
            raise ValueError("hl7 endpoint add CODE NAME HOST PORT")
        _print(asdict(sb.add_hl7_endpoint(code, rest[2], rest[3], int(rest[4]))))
    else:
        if len(rest) != 3:
            raise ValueError("hl7 endpoint remove CODE NAME")
        sb.remove_hl7_endpoint(code, rest[2])
        print(f"endpoint {rest[2]} removed")
    return 0
