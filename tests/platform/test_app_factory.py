"""The app factory builds independent apps from their own settings; nothing is read at import time."""
from academy import create_app
from tests.conftest import make_app


def test_two_apps_from_the_factory_keep_their_own_settings(tmp_path):
    first = make_app(tmp_path / "a", f"sqlite:///{tmp_path / 'a.db'}")
    second = make_app(tmp_path / "b", f"sqlite:///{tmp_path / 'b.db'}", ACADEMY_LOGIN_LIMIT_ACCOUNT="2 per hour")
    assert first.config["SQLALCHEMY_DATABASE_URI"] != second.config["SQLALCHEMY_DATABASE_URI"]
    assert first.config["ACADEMY_LOGIN_LIMIT_ACCOUNT"] == "5 per 15 minutes"
    assert second.config["ACADEMY_LOGIN_LIMIT_ACCOUNT"] == "2 per hour"
    assert (tmp_path / "a").is_dir() and (tmp_path / "b").is_dir()  # each made its own data directory


def test_the_environment_configures_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("ACADEMY_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("ACADEMY_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("ACADEMY_SECRET_KEY", "from-the-environment")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_every_blueprint_is_registered(app):
    assert {"auth", "exams", "health", "labs", "learn", "org"} <= set(app.blueprints)
