"""Shared fuzzing strategies and runners, used by the short CI properties in tests/fuzz/ and by the long
run in benchmarks/fuzz_long.py (which calls the same `check_*` functions with many more examples).

Content: a mutation is (file, operation, arguments) applied to a copy of tests/fixtures/content.
Forms: random and adversarial form values (unicode, control characters, huge, wrong types).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml
from hypothesis import strategies as st

# The CI properties draw the same cases on every run (a failure is reproducible, CI never flakes); set
# ACADEMY_FUZZ_RANDOM=1 to explore, or run benchmarks/fuzz_long.py, which always draws fresh cases.
DERANDOMIZE = os.environ.get("ACADEMY_FUZZ_RANDOM") != "1"
FIXTURE_CONTENT = Path(__file__).resolve().parent.parent / "fixtures" / "content"

# The files a mutation may target, relative to the content root: question files, module and lesson front
# matter, lab YAML, a blueprint, a path file and a track file.
TARGETS = sorted(str(p.relative_to(FIXTURE_CONTENT)) for p in FIXTURE_CONTENT.rglob("*")
                 if p.is_file() and p.suffix in (".yaml", ".md"))

# --- values ----------------------------------------------------------------------------------------

CONTROL = "".join(chr(c) for c in range(32)) + "\x7f\x85\u2028\u2029\ufeff\ud7ff"
nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=CONTROL + "abc{}[]&*!|>%@`'\"\\:#-?,", max_size=30),
    st.sampled_from(["", " ", "\u202e", "İ", "ß", "😀" * 3, "a" * 5000, "{PACS_AE}", "{NOPE}", "{", "null",
                     "~", "yes", "0x1F", "1e400", "-.inf", ".nan", "<script>alert(1)</script>",
                     "../../etc/passwd", "TST1", "TST2", "tst-echo", "basics", "01-ports", "tst-net-001"]),
)
huge_numbers = st.sampled_from([10 ** 30, -(10 ** 30), 2 ** 63, 2 ** 64 + 1, -1, 0, 10 ** 400 // 10 ** 370,
                                float("inf"), float("-inf"), float("nan"), 1e308, -0.0, 0.5])


def _deep(depth: int, leaf):
    value = leaf
    for n in range(depth):
        value = [value] if n % 2 else {"k": value}
    return value


scalar_values = st.one_of(st.none(), st.booleans(), st.integers(), huge_numbers, st.floats(), nasty_text)
weird_values = st.one_of(
    scalar_values,
    st.lists(scalar_values, max_size=4),
    st.dictionaries(nasty_text, scalar_values, max_size=3),
    st.builds(_deep, st.integers(5, 60), scalar_values),
)

# --- content mutations --------------------------------------------------------------------------------

STRUCTURAL = ("delete", "retype", "duplicate", "rename_key", "add_key")
RAW = ("deep_raw", "garbage_bytes", "truncate", "replace_char", "anchor_bomb", "duplicate_key", "drop_fence", "bom",
       "empty", "non_utf8", "tab_indent")
content_mutation = st.fixed_dictionaries({
    "file": st.sampled_from(TARGETS),
    "op": st.sampled_from(STRUCTURAL + RAW),
    "where": st.floats(0, 1),          # which node / position, as a fraction of the candidates
    "value": weird_values,
    "garbage": st.binary(min_size=1, max_size=12),
    "key": nasty_text,
    "depth": st.integers(10, 1200),      # for deep_raw: nesting beyond what any parser recursion allows
    "copy_file": st.booleans(),        # also copy the file beside itself: ids used twice across files
})
content_mutations = st.lists(content_mutation, min_size=1, max_size=3)


def copy_fixture_tree(destination: Path) -> Path:
    root = destination / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    return root


def _nodes(value, path=()):
    """Every (path) to a node of a parsed YAML document, the root included."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nodes(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _nodes(child, path + (index,))


def _pick(items, where: float):
    items = list(items)
    return items[min(int(where * len(items)), len(items) - 1)]


def _mutate_structure(data, op: str, where: float, value, key):
    candidates = [p for p in _nodes(data) if p] or [()]
    path = _pick(candidates, where)
    if not path:
        return value
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == "delete":
        del parent[last]
    elif op == "retype":
        parent[last] = value
    elif op == "duplicate":
        if isinstance(parent, list):
            parent.insert(last, parent[last])
        else:
            parent[f"{last}"] = parent[last]  # same key again as text (1 vs "1")
    elif op == "rename_key" and isinstance(parent, dict):
        parent[key if key not in parent else f"{key}x"] = parent.pop(last)
    elif op == "add_key":
        target = parent[last] if isinstance(parent[last], dict) else parent
        if isinstance(target, dict):
            target[key] = value
        else:
            target.append(value)
    return data


def _dump(data) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:  # e.g. a non-string key of a kind safe_dump refuses
        return yaml.dump(data, allow_unicode=True, sort_keys=False)


ANCHOR_BOMB = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nd: &d [*c, *c, *c]\nid: *d\n"


def apply_mutation(root: Path, mutation: dict) -> Path:
    """Change one file of the content tree at `root` in place; returns the file."""
    path = root / mutation["file"]
    raw = path.read_bytes()
    op, where = mutation["op"], mutation["where"]
    if op in STRUCTURAL:
        text = raw.decode("utf-8", "replace")
        front = path.suffix == ".md"
        if front:
            _, header, body = text.split("---\n", 2) if text.count("---\n") >= 2 else ("", text, "")
        else:
            header, body = text, ""
        try:
            data = yaml.safe_load(header)
        except yaml.YAMLError:
            data = None  # an earlier mutation broke it; retype the whole document
        data = _mutate_structure(data, op, where, mutation["value"], mutation["key"])
        dumped = _dump(data)
        path.write_text(f"---\n{dumped}---\n{body}" if front else dumped, encoding="utf-8")
    else:
        at = int(where * len(raw))
        if op == "garbage_bytes":
            raw = raw[:at] + mutation["garbage"] + raw[at:]
        elif op == "truncate":
            raw = raw[:at]
        elif op == "deep_raw":
            depth = mutation["depth"]
            nested = ("deep: " + ("[" * depth + "]" * depth if where < 0.5 else "{a: " * depth + "1" + "}" * depth))
            raw = raw.replace(b"---\n", b"---\n" + nested.encode() + b"\n", 1) if path.suffix == ".md" \
                else raw + b"\n" + nested.encode() + b"\n"
        elif op == "replace_char":
            raw = raw[:at] + mutation["garbage"][:1] + raw[at + 1:]
        elif op == "anchor_bomb":
            raw = (ANCHOR_BOMB if path.suffix == ".yaml" else f"---\n{ANCHOR_BOMB}---\nbody\n").encode()
        elif op == "duplicate_key":
            first_line = raw.split(b"\n", 2)[1 if path.suffix == ".md" else 0]
            raw = raw + b"\n" + first_line + b"\n"
        elif op == "drop_fence":
            raw = raw.replace(b"---", b"- - -", 1 + int(where * 2))
        elif op == "bom":
            raw = b"\xef\xbb\xbf" + raw
        elif op == "empty":
            raw = b""
        elif op == "non_utf8":
            raw = raw[:at] + b"\xff\xfe\xc3" + raw[at:]
        elif op == "tab_indent":
            raw = raw.replace(b"  ", b"\t", 1 + int(where * 5))
        path.write_bytes(raw)
    if mutation["copy_file"] and path.suffix == ".yaml" and "question_banks" in mutation["file"] \
            and path.name != "blueprint.yaml":
        shutil.copyfile(path, path.with_name("copy-" + path.name))
    return path


def check_content(root: Path) -> list:
    """The property: loading and checking the tree never raises, and every problem names a file inside
    the tree and an int line. Returns the problems."""
    from academy.content import loader, rules

    bundle = rules.check(loader.load(root / "curricula", root / "question_banks"))
    real_root = root.resolve()
    for problem in bundle.problems:
        assert isinstance(problem, loader.Problem), problem
        assert type(problem.line) is int and problem.line >= 0, problem
        assert Path(problem.path).resolve().is_relative_to(real_root), problem
        assert isinstance(problem.message, str) and problem.message, problem
        str(problem)
    return bundle.problems


# --- form values --------------------------------------------------------------------------------------

numeric_edges = st.sampled_from(["99999999999999999999999", str(2 ** 63), str(2 ** 63 - 1), "-9223372036854775809",
                                 "²", "١", "1_000", "0x10", "+1", "-0", "1e308", "inf", "nan", "", "00"])
form_value = st.one_of(
    numeric_edges,
    nasty_text,
    st.integers(-(2 ** 70), 2 ** 70).map(str),
    st.sampled_from(["1", "2", "3", "0", "-1", "a", "b", "c", "d", "True", "on", "next", "previous", "overview",
                     "99999999999999999999999", "1e3", " 1", "1.5", "NaN", "DELETE", "CT", "MR", "STUDY",
                     "\x00", "%00", "a\r\nSet-Cookie: x=1", "x" * 70000]),
)
form_fields = st.dictionaries(
    st.one_of(st.sampled_from(["answer", "version_id", "confidence", "go", "flagged", "next", "message", "subject",
                               "action", "user_id", "kind", "note", "domain", "weakest", "email", "password",
                               "current", "new", "confirm", "name", "role", "cohort", "endpoint", "username",
                               "secret", "target", "due_on", "requires_signoff", "as_instructor",
                               "answer-tst-les-ports-a", "answer-tst-les-ports-b", "answer-modality",
                               "display_name"]), nasty_text),
    st.lists(form_value, min_size=0, max_size=3),  # a list: repeated fields; empty: present, no value
    max_size=6,
)


# --- web routes ---------------------------------------------------------------------------------------

NAME_PATTERN = r'name="([^"]+)"'
VALUE_PATTERN = r'<(?:button|input|option)[^>]*\bvalue="([^"]*)"'
SKIP_ENDPOINTS = {"auth.logout", "static", "bootstrap.static"}  # logging out ends the fuzzed session
# Tables that a refused request may still write: the audit trail (failed logins are recorded), and the
# trainee's practice partition, made on first visit of a console whatever the form then says.
MAY_CHANGE_ON_REFUSAL = {"audit_event", "practice_space"}


def path_value(converter, known: list, draw):
    """A value for one URL parameter: a known good one, or a random / adversarial one."""
    from werkzeug.routing import IntegerConverter

    if isinstance(converter, IntegerConverter):
        return draw(st.one_of(st.sampled_from([v for v in known if isinstance(v, int)] or [1]),
                              st.integers(0, 50), st.sampled_from([2 ** 31, 2 ** 63 - 1, 2 ** 63, 2 ** 64, 10 ** 30])))
    strings = [v for v in known if isinstance(v, str)] or ["x"]
    return draw(st.one_of(st.sampled_from(strings), nasty_text.filter(lambda s: s and "/" not in s
                                                                       and s not in (".", ".."))))


@st.composite
def request_case(draw, rules: list, known: dict, names: list, values: list):
    """One request: a route, its path values, a method the route allows, and form data."""
    rule = draw(st.sampled_from(rules))
    params = {name: path_value(rule._converters[name], known.get(name, []), draw) for name in sorted(rule.arguments)}
    method = draw(st.sampled_from(sorted(rule.methods & {"GET", "POST"})))
    pool_value = st.one_of(form_value, st.sampled_from(values or ["x"]))
    fields = draw(st.dictionaries(st.one_of(st.sampled_from(names or ["answer"]), nasty_text),
                                  st.lists(pool_value, max_size=3), max_size=8))
    query = draw(st.dictionaries(st.sampled_from(["q", "after", "weakest", "domain", "study", "instance",
                                                   "preset", "frame", "event", "next"]), form_value, max_size=2))
    return rule, params, method, fields, query


def scrape_forms(html: str) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """The POST forms of a page: (action, [(field name, candidate values)]), the submit buttons' values
    among the candidates of their name."""
    from html.parser import HTMLParser

    forms: list = []

    class Parser(HTMLParser):
        current = None
        select = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form" and (a.get("method") or "").lower() == "post":
                self.current = (a.get("action") or "", {})
                forms.append(self.current)
            elif self.current is None:
                return
            elif tag in ("input", "button", "textarea", "select") and a.get("name") and a["name"] != "csrf_token":
                values = self.current[1].setdefault(a["name"], [])
                if a.get("value") is not None:
                    values.append(a["value"])
                self.select = a["name"] if tag == "select" else None
            elif tag == "option" and self.select and a.get("value") is not None:
                self.current[1][self.select].append(a["value"])

        def handle_endtag(self, tag):
            if tag == "form":
                self.current = None

    Parser().feed(html)
    return [(action, [(name, values or [""]) for name, values in fields.items()]) for action, fields in forms]


UPLOADS = [b"email,name,role,cohort\nfuzz@general.example.org,F,trainee,Spring intake\n",
           b"\xef\xbb\xbfemail\n" + "é@x.org\n".encode(), b"\x00" * 200, b"DICM" * 40,
           b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\x04\x001.2\x00"]


@st.composite
def form_case(draw, templates: list):
    """A real form of a page, mutated: fields dropped, values replaced by adversarial ones, fields repeated,
    extra fields added."""
    action, fields = draw(st.sampled_from(templates))
    data: dict[str, list[str]] = {}
    for name, candidates in fields:
        how = draw(st.sampled_from(("real", "real", "real", "nasty", "drop", "repeat", "empty")))
        if name.endswith(("file", "upload")):  # a file input: bytes, sent as an upload
            data[name] = [draw(st.one_of(st.binary(max_size=2000), st.sampled_from(UPLOADS)))]
        elif how == "real":
            data[name] = [draw(st.sampled_from(candidates))]
        elif how == "nasty":
            data[name] = [draw(form_value)]
        elif how == "repeat":
            data[name] = draw(st.lists(st.one_of(st.sampled_from(candidates), form_value), min_size=2, max_size=4))
        elif how == "empty":
            data[name] = [""]
    for name, values in draw(form_fields).items():
        data.setdefault(name, values)
    return action, data


# --- DICOM PDUs ---------------------------------------------------------------------------------------

def associate_rq(called: str = "FZD_PACS", calling: str = "FUZZ") -> bytes:
    """A valid A-ASSOCIATE-RQ PDU proposing Verification and CT Image Storage."""
    from pynetdicom import build_context
    from pynetdicom.pdu import A_ASSOCIATE_RQ
    from pynetdicom.pdu_primitives import A_ASSOCIATE, MaximumLengthNotification
    from pynetdicom.transport import AddressInformation

    prim = A_ASSOCIATE()
    prim.application_context_name = "1.2.840.10008.3.1.1.1"
    prim.calling_ae_title, prim.called_ae_title = calling, called
    prim.calling_presentation_address = AddressInformation("127.0.0.1", 1)
    prim.called_presentation_address = AddressInformation("127.0.0.1", 2)
    contexts = [build_context("1.2.840.10008.1.1"), build_context("1.2.840.10008.5.1.4.1.1.2")]
    for number, cx in enumerate(contexts):
        cx.context_id = 1 + 2 * number
    prim.presentation_context_definition_list = contexts
    ml = MaximumLengthNotification()
    ml.maximum_length_received = 16384
    prim.user_information = [ml]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(prim)
    return pdu.encode()


def p_data(context_id: int, control: int, payload: bytes) -> bytes:
    """A P-DATA-TF PDU with one PDV (PS3.8 9.3.5)."""
    import struct

    item = struct.pack(">IBB", len(payload) + 2, context_id, control) + payload
    return struct.pack(">BBI", 0x04, 0, len(item)) + item


def echo_command(message_id: int = 1) -> bytes:
    from pydicom.dataset import Dataset
    from pynetdicom.dsutils import encode

    ds = Dataset()
    ds.CommandGroupLength = 0
    ds.AffectedSOPClassUID = "1.2.840.10008.1.1"
    ds.CommandField = 0x0030
    ds.MessageID = message_id
    ds.CommandDataSetType = 0x0101
    body = encode(ds, True, True)
    ds.CommandGroupLength = len(body) - 12
    return encode(ds, True, True)


def _flip(data: bytes, draw) -> bytes:
    if not data:
        return draw(st.binary(max_size=16))
    op = draw(st.sampled_from(("flip", "truncate", "insert", "length", "type", "delete")))
    at = draw(st.integers(0, len(data) - 1))
    if op == "flip":
        return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1:]
    if op == "truncate":
        return data[:at]
    if op == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    if op == "delete":
        return data[:at] + data[at + draw(st.integers(1, 8)):]
    if op == "length":  # rewrite the PDU length field (bytes 2-5) with a lie
        import struct

        return data[:2] + struct.pack(">I", draw(st.sampled_from([0, 1, len(data), len(data) * 2, 2 ** 32 - 1,
                                                                   draw(st.integers(0, 2 ** 20))]))) + data[6:]
    return bytes([draw(st.integers(0, 255))]) + data[1:]


@st.composite
def dicom_stream(draw, called: str = "FZD_PACS"):
    """The bytes one peer sends: a mutated association request, or a valid one followed by mutated
    P-DATA (C-ECHO command, garbage commands and datasets), or random bytes."""
    kind = draw(st.sampled_from(("mutated_rq", "mutated_pdata", "garbage_pdata", "random")))
    rq = associate_rq(called)
    if kind == "mutated_rq":
        data = rq
        for _ in range(draw(st.integers(1, 4))):
            data = _flip(data, draw)
        return data
    if kind == "random":
        return draw(st.binary(max_size=300))
    if kind == "mutated_pdata":
        pdata = p_data(1, 0x03, echo_command(draw(st.integers(0, 65535))))
        for _ in range(draw(st.integers(1, 4))):
            pdata = _flip(pdata, draw)
        return rq + pdata
    payload = draw(st.binary(max_size=200))
    return rq + p_data(draw(st.sampled_from([1, 3, 5, 255])), draw(st.integers(0, 3)), payload) \
        + draw(st.sampled_from([b"", b"\x05\x00\x00\x00\x00\x04\x00\x00\x00\x00", b"\x07\x00\x00\x00\x00\x04\x00\x00\x00\x00"]))
