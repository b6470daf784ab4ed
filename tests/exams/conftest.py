from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest


class FakeClock:
    def __init__(self):
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(app):
    fake = FakeClock()
    app.config["ACADEMY_CLOCK"] = fake
    return fake
