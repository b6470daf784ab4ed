"""pylti1p3's launch data storage kept in the database (table lti_launch_data).

Why not the Flask session or pylti1p3's cookies: the launch is a cross-site form POST from the LMS, and the
site's session cookie is SameSite=Lax, so it is not sent; a third-party cookie is blocked by many browsers.
Why not process memory or a per-process cache: the login initiation and the launch may reach different
site instances. Rows in the shared database work for both, and `take` deletes a key in the same statement
that proves it was there, so a state or nonce is accepted once, whichever instance asks.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from pylti1p3.launch_data_storage.base import LaunchDataStorage
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from academy.models import LtiLaunchData

DEFAULT_LIFETIME = 600  # seconds; an OIDC login that takes longer than this is refused


class DatabaseLaunchData(LaunchDataStorage):
    """Keys are stored as pylti1p3 names them (`lti1p3-nonce-...`, `lti1p3-<state>`); no session id, so no
    cookie is needed to find them again."""

    _session_cookie_name = ""

    def __init__(self, session: Session, now: Callable[[], datetime]):
        super().__init__()
        self.session, self.now = session, now

    def get_session_cookie_name(self):
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def _row(self, key: str) -> LtiLaunchData | None:
        row = self.session.get(LtiLaunchData, self._prepare_key(key))
        return row if row is not None and row.expires_at > self.now() else None

    def get_value(self, key: str) -> Any:
        row = self._row(key)
        return row.value if row is not None else None

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        lifetime = min(exp or DEFAULT_LIFETIME, DEFAULT_LIFETIME)
        self.session.merge(LtiLaunchData(key=self._prepare_key(key), value=value,
                                         expires_at=self.now() + timedelta(seconds=lifetime)))
        self.session.flush()

    def check_value(self, key: str) -> bool:
        return self._row(key) is not None

    def take(self, key: str) -> Any:
        """The value, removed for good (committed at once), or None when it is unknown, expired or was
        already taken by another request."""
        name = self._prepare_key(key)
        value = self.session.scalar(select(LtiLaunchData.value).where(LtiLaunchData.key == name,
                                                                      LtiLaunchData.expires_at > self.now()))
        claimed = self.session.execute(delete(LtiLaunchData).where(LtiLaunchData.key == name)).rowcount
        self.session.commit()
        return value if claimed == 1 else None


def purge_expired(session: Session, now: datetime) -> int:
    """Drop abandoned logins (the maintenance round)."""
    removed = session.execute(delete(LtiLaunchData).where(LtiLaunchData.expires_at <= now)).rowcount
    session.commit()
    return removed
