"""YAML loading that remembers where each mapping started, so problems can name a file and line."""
from __future__ import annotations

import yaml


class LineDict(dict):
    line: int = 0


class _LineLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        mapping = LineDict(super().construct_mapping(node, deep=deep))
        mapping.line = node.start_mark.line + 1
        return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping)


def load(text: str):
    """Parse YAML text; mappings come back as LineDict with `.line` set (1-based).

    Every parse error is a yaml.MarkedYAMLError with a line: the reader's errors (control characters)
    carry only a character position, so they are re-raised as one; so is nesting too deep for the parser.
    """
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0))
        mark = yaml.Mark("<unicode string>", exc.position, line, 0, None, None)
        raise yaml.MarkedYAMLError(problem=f"{exc.reason} (character #x{exc.character:04x})",
                                   problem_mark=mark) from exc
    except RecursionError:
        # PyYAML composes and constructs recursively: content is never nested this deep.
        mark = yaml.Mark("<unicode string>", 0, 0, 0, None, None)
        raise yaml.MarkedYAMLError(problem="nested too deeply", problem_mark=mark) from None


def line_of(value, path: tuple = ()) -> int:
    """The line of the deepest mapping reachable along `path` (keys and list indexes)."""
    line = getattr(value, "line", 0)
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            break
        line = getattr(value, "line", line)
    return line


def split_front_matter(text: str) -> tuple[str, str, int]:
    """Split '---\\n<yaml>\\n---\\n<body>' into (yaml, body, body's first line). No front matter: ('', text, 1)."""
    if not text.startswith("---"):
        return "", text, 1
    lines = text.splitlines(keepends=True)
    for index in range(1, len(lines)):
        if lines[index].rstrip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1:]), index + 2
    raise ValueError("front matter starts with '---' but has no closing '---' line")
