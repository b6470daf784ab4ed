"""New files an author starts from: valid files (a new lab passes its own try-it at once), so an author
edits from something that works."""
from __future__ import annotations

import yaml


def dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)


def front_matter(header: dict, body: str) -> bytes:
    return f"---\n{dump(header)}---\n\n{body.strip()}\n".encode()


def track_file(code: str, title: str) -> bytes:
    return dump({"code": code, "title": title, "order": 100, "requires": [],
                 "summary": f"{title}: our own training.", "description": "",
                 "domains": [{"key": "local-practice", "title": "Our systems and procedures", "weight": 100,
                              "summary": "How our department runs its imaging systems."}]}).encode()


def blueprint_file(code: str, weights: dict[str, int]) -> bytes:
    return dump({"track": code, "exam": {"length": 10, "time_limit_minutes": 15, "pass_mark": 0.7},
                 "domains": weights}).encode()


def module_file(key: str, title: str, domain: str) -> bytes:
    return front_matter({"id": key, "title": title, "domain": domain, "order": 1,
                         "summary": f"What a new analyst needs to know about {title.lower()}.",
                         "objectives": [f"Explain {title.lower()} in our department."], "minutes": 30},
                        f"This module covers {title.lower()}.")


def lesson_file(title: str) -> bytes:
    return front_matter({"title": title, "minutes": 10}, f"## {title}\n\nWrite the lesson here, in Markdown.")


def lab_file(key: str, code: str, domain: str, title: str) -> bytes:
    """A small complete lab: register a workstation and prove it with C-ECHO (PS3.7 Section 9.1.5)."""
    return dump({
        "id": key, "track": code, "domain": domain, "title": title, "level": "guided", "minutes": 15,
        "prerequisites": [],
        "objectives": ["Register a DICOM node with its AE title, host and port.",
                       "Prove connectivity with a C-ECHO from the new node."],
        "scenario": {"nodes": [{"ae_title": "{WS_AE}", "host": "127.0.0.1", "port": "{DICOM_PORT}",
                                "description": "Reading room workstation"}]},
        "instructions": "### Your goal\n\nRegister the workstation `READ9` (host 10.0.0.9, port 11112) in PACS "
                        "administration, then send a C-ECHO from `READ9` to `{PACS_AE}` in the DICOM workstation console.\n",
        "checks": [
            {"id": "registered", "type": "node_registered",
             "params": {"ae_title": "READ9", "host": "10.0.0.9", "port": 11112}, "points": 4,
             "pass": "READ9 is registered.", "fail": "READ9 is not in the node registry with host 10.0.0.9, port 11112."},
            {"id": "echo", "type": "echo_performed", "params": {"calling_ae": "READ9", "called_ae": "{PACS_AE}"},
             "points": 4, "pass": "READ9 completed a C-ECHO.", "fail": "No successful C-ECHO from READ9 yet."},
        ],
        "solution": [
            {"do": "add_node", "ae_title": "READ9", "host": "10.0.0.9", "port": 11112},
            {"do": "echo", "node": "{PACS_AE}", "device": "READ9"},
        ],
    }).encode()
