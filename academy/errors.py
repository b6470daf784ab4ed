"""Friendly error pages. A trainee never sees a traceback; the log keeps it for the operators."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError, TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from academy.extensions import db

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Not allowed", "This page cannot be used that way."),
    409: ("Not possible now", "That cannot be done in the current state."),
    413: ("Too large", "What you sent is larger than the site accepts."),
    422: ("Cannot show this", "The request was understood but cannot be carried out."),
    429: ("Too many attempts", "Too many attempts in a short time. Wait a few minutes and try again."),
    500: ("Something went wrong", "The problem has been logged. Try again, and tell your administrator if it persists."),
    503: ("Temporarily unavailable", "The site cannot reach its database right now. Try again in a minute."),
}


def _render(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return jsonify(error=title, message=detail or message), code
    return render_template("error.html", code=code, title=title, message=detail or message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, "This form has expired or was not sent from this site. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        # A view that aborts with its own message (abort(403, "why")) has it shown; defaults are replaced
        # by the friendlier texts above.
        detail = error.description if error.description != type(error).description else None
        return _render(error.code, detail)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error):
        app.logger.error("database unavailable: %s", error.__class__.__name__)
        db.session.rollback()
        return _render(ServiceUnavailable.code)

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(error):
        # An id or number from the request beyond what the database column holds (SQLite's driver raises
        # OverflowError, PostgreSQL a DataError): the request's fault, not the site's.
        app.logger.warning("value out of the database's range on %s %s", request.method, request.path)
        db.session.rollback()
        return _render(400)

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        return _render(InternalServerError.code)
