"""Shared helpers for the benchmarks: a throwaway app, medians, and the reference measurement."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from academy import create_app, database


def throwaway_app(**overrides):
    folder = Path(tempfile.mkdtemp(prefix="academy-bench-"))
    app = create_app({"ACADEMY_DATA_DIR": folder, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'academy.db'}",
                      "SECRET_KEY": "bench", "TESTING": True, **overrides})
    database.upgrade(app)
    return app


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def reference_request(app, repeat: int = 200) -> float:
    """The median time of an empty request to the site in this run: /healthz through the WSGI stack."""
    client = app.test_client()
    client.get("/healthz")
    return statistics.median(timed(lambda: client.get("/healthz"), repeat))


def report(rows: list[tuple[str, float]], reference: float) -> None:
    print(f"{'operation':<44} {'median':>12} {'x empty request':>16}")
    print(f"{'empty request (/healthz)':<44} {reference * 1000:>10.2f} ms {1.0:>16.1f}")
    for name, value in rows:
        print(f"{name:<44} {value * 1000:>10.2f} ms {value / reference:>16.1f}")
