"""CSV exports that are safe to open in a spreadsheet.

A cell that starts with =, +, - or @ (or a tab or carriage return) is a formula to Excel and LibreOffice;
a trainee's name like "=HYPERLINK(...)" would run when a manager opens the report. Such cells are
prefixed with an apostrophe (OWASP's advice for CSV injection).
"""
from __future__ import annotations

import csv
import io

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(DANGEROUS) else text


def to_csv(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([cell(h) for h in header])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()
