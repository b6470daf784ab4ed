"""Logging in and out, and changing one's password."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from academy import audit
from academy.auth import service
from academy.auth.forms import ChangePasswordForm, EmptyForm, LoginForm
from academy.extensions import db, limiter, login_manager
from academy.navigation import local_path
from academy.models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or str(user.session_version) != version:
        return None  # password changed since this session began
    return user


login_manager.login_view = "auth.login"
login_manager.login_message = "Log in to see that page."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


def _account_key() -> str:
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def _safe_next(target: str | None) -> str:
    """Only same-site paths; anything with a scheme or host could send the user elsewhere."""
    return local_path(target) or url_for("learn.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["ACADEMY_LOGIN_LIMIT_ADDRESS"], methods=["POST"])
@limiter.limit(lambda: current_app.config["ACADEMY_LOGIN_LIMIT_ACCOUNT"], key_func=_account_key,
               methods=["POST"], deduct_when=lambda response: response.status_code == 401)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("learn.dashboard"))
    form = LoginForm()
    if request.method == "GET":
        return render_template("auth/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400
    user = service.authenticate(db.session, form.email.data, form.password.data)
    if user is None:
        audit.record("login.failed", form.email.data.strip().lower()[:200])
        db.session.commit()
        form.password.errors.append("The email or password is not right.")
        return render_template("auth/login.html", form=form), 401
    next_url = _safe_next(request.args.get("next"))
    session.clear()
    login_user(user)
    audit.record("login", user.email, actor_id=user.id,
                 organization_id=user.organization.id if user.organization else None)
    db.session.commit()
    return redirect(next_url)


@bp.post("/logout")
@login_required
def logout():
    if not EmptyForm().validate_on_submit():
        return render_template("error.html", code=400, title="Bad request",
                               message="This form has expired. Reload the page and try again."), 400
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            service.change_password(current_user, form.current.data, form.new.data)
        except service.AccountError as exc:
            form.current.errors.append(str(exc))
        else:
            audit.record("password.changed", current_user.email)
            db.session.commit()
            login_user(current_user)  # the session id carries the new session version
            flash("Your password is changed. Other sessions have been logged out.", "success")
            return redirect(url_for("learn.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/change_password.html", form=form), status
