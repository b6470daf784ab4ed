"""Questions written in a form, kept in the organisation's question files (question_banks/<TRACK>/<domain>.yaml).

The form's fields become a question in the file format, checked by the same pydantic model as the bundled
banks (academy.content.schema.QuestionSpec); each message goes back to the field it is about.
"""
from __future__ import annotations

import yaml
from pydantic import ValidationError

from academy.authoring import starters, tree
from academy.content.schema import QuestionSpec

CHOICE_IDS = "abcdef"


def bank_path(code: str, domain: str) -> str:
    return f"question_banks/{code}/{domain}.yaml"


def from_form(data: dict) -> dict:
    """The question as the file holds it, from the form's fields (strings)."""
    kind = data["type"]
    question = {"id": data["id"].strip(), "type": kind, "difficulty": int(data.get("difficulty") or 2),
                "stem": data["stem"].strip()}
    if data.get("exhibit_kind") and data.get("exhibit", "").strip():
        question["exhibit"] = {"kind": data["exhibit_kind"], "content": data["exhibit"].strip()}
    if kind == "truefalse":
        question["choices"] = [{"id": "a", "text": "True"}, {"id": "b", "text": "False"}]
    elif kind != "numeric":
        question["choices"] = [{"id": cid, "text": data[f"choice_{cid}"].strip()}
                               for cid in CHOICE_IDS if (data.get(f"choice_{cid}") or "").strip()]
    answer = (data.get("answer") or "").strip()
    if kind == "numeric":
        question["answer"] = {"value": _number(data.get("value")), "tolerance": _number(data.get("tolerance") or "0"),
                              "unit": (data.get("unit") or "").strip()}
    elif kind in ("multiple", "ordering"):
        question["answer"] = [part.strip() for part in answer.replace(" ", ",").split(",") if part.strip()]
    else:
        question["answer"] = answer
    question["explanation"] = data["explanation"].strip()
    question["references"] = [line.strip() for line in (data.get("references") or "").splitlines() if line.strip()]
    return question


def _number(text):
    try:
        return float(str(text).strip())
    except ValueError:
        return text  # pydantic reports it on the field


def to_form(question: dict) -> dict:
    data = {"id": question["id"], "type": question["type"], "difficulty": str(question.get("difficulty", 2)),
            "stem": question["stem"], "explanation": question["explanation"],
            "references": "\n".join(question.get("references", []))}
    exhibit = question.get("exhibit") or {}
    data["exhibit_kind"], data["exhibit"] = exhibit.get("kind", ""), exhibit.get("content", "")
    for choice in question.get("choices", []):
        data[f"choice_{choice['id']}"] = choice["text"]
    answer = question["answer"]
    if isinstance(answer, dict):
        data.update(value=str(answer["value"]), tolerance=str(answer.get("tolerance", 0)), unit=answer.get("unit", ""))
    else:
        data["answer"] = ", ".join(answer) if isinstance(answer, list) else answer
    return data


FIELD_OF = {"choices": "choice_a", "answer": "answer", "exhibit": "exhibit", "references": "references"}


def errors(question: dict) -> dict[str, list[str]]:
    """field name -> messages, from the same validator as the bundled banks ('' for the whole question)."""
    try:
        QuestionSpec.model_validate(question)
    except ValidationError as exc:
        found: dict[str, list[str]] = {}
        for error in exc.errors():
            location = [str(part) for part in error["loc"]]
            message = error["msg"].removeprefix("Value error, ")
            field = ""
            if not location:  # a rule about the whole question: show it where the author fixes it
                field = "answer" if "answer" in message else ("choice_a" if "choice" in message else "")
            else:
                head = location[0]
                if head == "choices" and len(location) > 1 and location[1].isdecimal():
                    field = f"choice_{CHOICE_IDS[int(location[1])]}"
                elif head == "answer":
                    field = "value" if question["type"] == "numeric" and "value" in location else "answer"
                else:
                    field = FIELD_OF.get(head, head)
            found.setdefault(field, []).append(message)
        return found
    return {}


def read_bank(data: bytes | None) -> dict:
    if not data:
        return {}
    try:
        parsed = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise tree.TreeError(f"The question file does not parse ({exc}); fix it in the file editor first.") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("questions"), list):
        raise tree.TreeError("The question file is not a mapping with a list of questions; fix it in the file editor first.")
    return parsed


def put(bank: bytes | None, code: str, domain: str, question: dict, *, replace: str | None = None) -> bytes:
    """The bank file with `question` added, or put in place of question `replace`."""
    parsed = read_bank(bank) or {"track": code, "domain": domain, "questions": []}
    items = parsed["questions"]
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    if question["id"] in ids and question["id"] != replace:
        raise tree.TreeError(f"This file already has a question '{question['id']}'.")
    if replace is not None and replace in ids:
        items[ids.index(replace)] = question
    else:
        items.append(question)
    return starters.dump(parsed).encode()


def find(bank: bytes | None, question_id: str) -> dict | None:
    for item in read_bank(bank).get("questions", []):
        if isinstance(item, dict) and item.get("id") == question_id:
            return item
    return None


def ids(bank: bytes | None) -> list[str]:
    """The ids of a bank file's questions, or none when the file does not parse (its editor says why)."""
    try:
        return [q["id"] for q in read_bank(bank).get("questions", []) if isinstance(q, dict) and q.get("id")]
    except tree.TreeError:
        return []


def save(session, organization_id: int, files: dict[str, bytes], code: str, domain: str, question: dict, *,
         replace: str | None, author_id: int | None):
    """Put the question in its domain's file as a new version of that file (None when nothing changed); the
    track's first question also gets an exam blueprint with the track's domain weights. The caller commits."""
    path = bank_path(code, domain)
    version = tree.save(session, organization_id, path, put(files.get(path), code, domain, question, replace=replace),
                        author_id=author_id, note=f"question {question['id']}")
    blueprint = f"question_banks/{code}/blueprint.yaml"
    if blueprint not in files:
        weights = tree.tracks_in(files)[code]["weights"]
        tree.save(session, organization_id, blueprint, starters.blueprint_file(code, weights), author_id=author_id,
                  note="exam blueprint for the first question")
    return version
