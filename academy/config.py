"""Settings from the environment, with embedded defaults.

Nothing here is read at import time: `load_config()` is called by the app factory, so tests and the
command line can point one process at another data directory or database.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULTS = {
    "ACADEMY_HOST": "127.0.0.1",
    "ACADEMY_PORT": "5000",
    "ACADEMY_DICOM_PORT": "11112",
    "ACADEMY_HL7_PORT": "2575",
    "ACADEMY_DATA_DIR": "instance",
}


def _env(name: str, environ: dict) -> str | None:
    value = environ.get(name)
    return value if value not in (None, "") else DEFAULTS.get(name)


def secret_key_for(data_dir: Path) -> str:
    """Return the key kept in the data dir, creating it once (mode 0600) on first start."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_config(environ: dict | None = None) -> dict:
    """Build the Flask config mapping from ACADEMY_* variables."""
    environ = dict(os.environ if environ is None else environ)
    data_dir = Path(_env("ACADEMY_DATA_DIR", environ)).resolve()
    database_url = _env("ACADEMY_DATABASE_URL", environ) or f"sqlite:///{data_dir / 'academy.db'}"
    https = (_env("ACADEMY_HTTPS", environ) or "").lower() in {"1", "true", "yes"}
    settings = {
        "ACADEMY_DATA_DIR": data_dir,
        "ACADEMY_HOST": _env("ACADEMY_HOST", environ),
        "ACADEMY_PORT": int(_env("ACADEMY_PORT", environ)),
        "ACADEMY_DICOM_PORT": int(_env("ACADEMY_DICOM_PORT", environ)),
        "ACADEMY_HL7_PORT": int(_env("ACADEMY_HL7_PORT", environ)),
        "ACADEMY_SANDBOX_DATABASE_URL": _env("ACADEMY_SANDBOX_DATABASE_URL", environ),
        # The site's address as others see it (xAPI activity ids, links in certificates), e.g. https://academy.example.org
        "ACADEMY_PUBLIC_URL": _env("ACADEMY_PUBLIC_URL", environ) or "",
        # Where the sandbox's listeners are, when it runs as its own service (default: ACADEMY_HOST).
        "ACADEMY_SANDBOX_HOST": _env("ACADEMY_SANDBOX_HOST", environ),
        "ACADEMY_ALLOWED_NETWORKS": _env("SANDBOX_ALLOWED_NETWORKS", environ) or "",
        "SECRET_KEY": _env("ACADEMY_SECRET_KEY", environ) or secret_key_for(data_dir),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # hide_parameters: SQL logging and database errors (which the 500 handler logs) never carry the
        # bound values, such as an organisation's LRS secret or an invitation's token hash.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "ACADEMY_HTTPS": https,
        "ACADEMY_PROXY_FIX": (_env("ACADEMY_PROXY_FIX", environ) or "") in {"1", "true"},
        # Flask-Limiter: memory is right for the embedded single process; a shared store (Redis)
        # is required once the site runs in more than one process.
        "RATELIMIT_STORAGE_URI": _env("ACADEMY_RATELIMIT_STORAGE_URL", environ) or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "ACADEMY_LOGIN_LIMIT_ADDRESS": _env("ACADEMY_LOGIN_LIMIT_ADDRESS", environ) or "30 per 15 minutes",
        "ACADEMY_LOGIN_LIMIT_ACCOUNT": _env("ACADEMY_LOGIN_LIMIT_ACCOUNT", environ) or "5 per 15 minutes",
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    }
    # Content folders other than the bundled ones (a hospital's own content repository, test fixtures).
    for name in ("ACADEMY_CURRICULA_DIR", "ACADEMY_QUESTION_BANKS_DIR"):
        if _env(name, environ):
            settings[name] = Path(_env(name, environ)).resolve()
    return settings
