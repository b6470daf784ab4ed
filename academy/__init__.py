"""PACS Academy: the training platform. `create_app` is the app factory."""
from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from academy.config import load_config


class DatabaseInteger(IntegerConverter):
    """`<int:...>` in a URL: at most what the database's 64-bit integer holds (larger is a 404, not an
    OverflowError from the driver)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2 ** 63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(overrides: dict | None = None) -> Flask:
    """Build the site. `overrides` wins over the environment (tests use it)."""
    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseInteger
    app.config.update(load_config())
    if overrides:
        app.config.update(overrides)
    app.config["ACADEMY_DATA_DIR"].mkdir(parents=True, exist_ok=True)
    if app.config["ACADEMY_PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import academy.models  # noqa: F401  (registers every table on the metadata)
    from academy import cli, database, errors, navigation, security
    from academy.extensions import bootstrap, csrf, limiter, login_manager, migrate
    from academy.extensions import db

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(database.MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    cli.init_app(app)

    from academy.content.markdown import render as render_markdown
    from markupsafe import Markup

    app.jinja_env.filters["markdown"] = lambda text: Markup(render_markdown(text))

    from academy.auth.routes import bp as auth_bp
    from academy.authoring.routes import bp as authoring_bp
    from academy.exams.routes import bp as exams_bp
    from academy.health import bp as health_bp
    from academy.labs import consoles  # noqa: F401  (adds the console pages to the labs blueprint)
    from academy.labs.routes import bp as labs_bp
    from academy.learn.routes import bp as learn_bp
    from academy.lti.routes import bp as lti_bp
    from academy.org.routes import bp as org_bp
    from academy.records.routes import bp as records_bp

    for blueprint in (auth_bp, authoring_bp, exams_bp, health_bp, labs_bp, learn_bp, lti_bp, org_bp, records_bp):
        app.register_blueprint(blueprint)
    return app
