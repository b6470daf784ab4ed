"""Partition codes and the AE titles derived from them.

One listening port serves every partition and every role: the called AE title
`<CODE>_<ROLE>` picks both. Validation lives here so every entry point (API,
CLI, association hook, scenario) refuses a bad code with the same message.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"[A-Z0-9]{1,8}")
# PS3.5 6.2: AE is up to 16 characters, no backslash or control characters;
# leading/trailing spaces are not significant.
_AE_TITLE = re.compile(r"[\x20-\x5b\x5d-\x7e]{1,16}")


def validate_code(code: object) -> str:
    """Return `code` if it is 1-8 upper-case letters or digits, else raise ValueError."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise ValueError(
            f"invalid partition code {code!r}: use 1 to 8 upper-case letters or digits, e.g. 'LAB1'"
        )
    return code


def validate_ae_title(ae_title: object) -> str:
    """Return the stripped AE title if valid (PS3.5 6.2 AE), else raise ValueError."""
    if not isinstance(ae_title, str) or not _AE_TITLE.fullmatch(ae_title.strip() or "\0"):
        raise ValueError(
            f"invalid AE title {ae_title!r}: 1 to 16 printable characters, no backslash"
        )
    return ae_title.strip()


def ae_title_for(code: str, role: str) -> str:
    """The AE title a partition answers to (or sends from) in `role`, e.g. LAB1_PACS."""
    return f"{validate_code(code)}_{role}"


def split_ae_title(ae_title: str) -> tuple[str, str] | None:
    """Split `<CODE>_<ROLE>` into (code, role); None if it has not that shape."""
    code, sep, role = ae_title.strip().rpartition("_")
    if not sep or not _CODE.fullmatch(code) or not role:
        return None
    return code, role
