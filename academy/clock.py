"""The time, as the services should see it. Tests replace ACADEMY_CLOCK to move time without sleeping."""
from datetime import datetime

from flask import current_app

from academy.models import utcnow


def now() -> datetime:
    return current_app.config.get("ACADEMY_CLOCK", utcnow)()
