"""The trainee's side: the landing page and the dashboard."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from academy.access import ANY_ROLE, role_required

bp = Blueprint("learn", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("learn.dashboard"))
    return render_template("index.html")


@bp.get("/dashboard")
@role_required(*ANY_ROLE)
def dashboard():
    return render_template("learn/dashboard.html")
