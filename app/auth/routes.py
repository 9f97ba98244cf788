from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.access import EVERYONE, public, roles
from app.auth.forms import LoginForm, SetupForm
from app.auth.models import ADMIN
from app.auth.queries import has_users
from app.auth.services import authenticate, create_user
from app.errors import RuleViolation
from app.extensions import db

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("cases.list_cases")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Log in with email and password."""
    if not has_users():
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        db.session.rollback()
        form.password.errors.append(_("Wrong email or password."))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.route("/logout", methods=["POST"])
@roles(*EVERYONE)
def logout():
    """End the session."""
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup():
    """First run: create the admin account. Gone once any account exists."""
    if has_users():
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data, ADMIN, form.password.data, by=None)
        except RuleViolation as e:
            db.session.rollback()
            getattr(form, e.field or "email").errors.append(e.message)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Welcome. Your admin account is ready."), "success")
            return redirect(url_for("cases.list_cases"))
    return render_template("auth/setup.html", form=form), 200 if not form.errors else 422
