from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from app.access import ADMIN, EVERYONE, public, roles
from app.auth.forms import (
    ConfirmForm,
    LanguageForm,
    LoginForm,
    NewUserForm,
    PasswordChangeForm,
    SetupForm,
    UserForm,
)
from app.auth.models import User
from app.auth.queries import all_users, has_users, open_alert_count, recent_alerts
from app.auth.services import (
    AccountLocked,
    authenticate,
    change_password,
    change_role,
    create_user,
    end_user_sessions,
    locked_message,
    mark_alerts_seen,
    password_check,
    set_enabled,
    set_locale,
)
from app.errors import RuleViolation
from app.extensions import db
from app.forms_base import form_status, show_refusal
from app.uploads import discard_upload

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect, and never a character a browser drops
    or a header cannot hold (a tab or a line break: a browser drops it from "/<tab>/host", leaving
    "//host"; a header cannot hold it). Anything else: the case list."""
    if (
        target
        and target.startswith("/")
        and target.isprintable()  # no control, format or separator characters but " "
        and "\\" not in target
        and not target.startswith("//")
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("cases.list_cases")


def _start_session(user: User) -> None:
    """Log ``user`` in under a new session row, in the current transaction (the caller
    commits): a token or cookie planted before login is worthless after it."""
    login_user(user)
    session.rotate()


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Log in with email and password. (A POST reaches the database only once it has a
    hashing slot: a flood answered "busy" costs the database nothing.)"""
    target = _safe_next(request.args.get("next"))  # checked before anything is written
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    if form.validate_on_submit():
        try:
            with password_check(form.email.data, request.remote_addr) as check:
                db.session.commit()  # counted before it is hashed; nothing held while it is
                user = authenticate(check, form.password.data)
        except AccountLocked as lock:
            db.session.commit()  # the failure that locked is kept
            form.form_errors.append(locked_message(lock))
        else:
            if user is not None:
                _start_session(user)
                db.session.commit()
                return redirect(target)
            db.session.commit()  # the failure is kept
            form.password.errors = [_("Wrong email or password.")]
    if not has_users():
        return redirect(url_for("auth.setup"))
    return render_template("auth/login.html", form=form), form_status(form)


@bp.route("/logout", methods=["POST"])
@roles(*EVERYONE)
def logout():
    """End the session: its cookie stops working."""
    logout_user()
    discard_upload(session)  # a file checked for import goes with the session
    session.end("logout")
    db.session.commit()
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
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        else:
            _start_session(user)
            db.session.commit()
            flash(_("Welcome. Your admin account is ready."), "success")
            return redirect(url_for("cases.list_cases"))
    return render_template("auth/setup.html", form=form), form_status(form)


@bp.route("/account/password", methods=["GET", "POST"])
@roles(*EVERYONE)
def password():
    """Change one's own password; other sessions of the account, and its calendar link, end."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            with password_check(user.email, request.remote_addr, "password") as check:
                db.session.commit()  # counted before it is hashed; nothing held while it is
                change_password(
                    user,
                    check,
                    form.current.data,
                    form.password.data,
                    by=user,
                    keep_session=session.row_id,
                )
        except AccountLocked as lock:
            db.session.commit()  # the wrong password that locked is kept, and audited
            form.form_errors.append(locked_message(lock))
        except RuleViolation as refusal:
            db.session.commit()  # a wrong current password is counted and audited
            show_refusal(form, refusal)
        else:
            session.rotate()
            db.session.commit()
            flash(
                _("Password changed. Your other sessions and your calendar link have ended."),
                "success",
            )
            return redirect(url_for("cases.list_cases"))
    return render_template("auth/password.html", form=form), form_status(form)


@bp.route("/admin/users")
@roles(ADMIN)
def list_users():
    """Every account, with its role and state."""
    return render_template("auth/users.html", users=all_users(), form=ConfirmForm())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@roles(ADMIN)
def new_user():
    """Create an account."""
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data, form.role.data, form.password.data, by=current_user)
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Account %(email)s created.", email=user.email), "success")
            return redirect(url_for("auth.list_users"))
    return render_template("auth/new_user.html", form=form), form_status(form)


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@roles(ADMIN)
def edit_user(user_id: int):
    """Change an account's role, or disable and re-enable it (accounts are never deleted)."""
    user = _user_or_404(user_id)
    form = UserForm(obj=user)
    if form.validate_on_submit():
        try:
            change_role(user, form.role.data, by=current_user)
            if form.is_enabled.data != user.is_enabled:
                set_enabled(user, form.is_enabled.data, by=current_user)
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Account %(email)s saved.", email=user.email), "success")
            return redirect(url_for("auth.list_users"))
    return render_template(
        "auth/edit_user.html", user=user, form=form, end_form=ConfirmForm(formdata=None)
    ), form_status(form)


@bp.route("/admin/users/<int:user_id>/sessions/end", methods=["POST"])
@roles(ADMIN)
def end_sessions_of(user_id: int):
    """End every session of an account now (a lost or seized phone)."""
    user = _user_or_404(user_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    ended = end_user_sessions(user, by=current_user)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d session of %(email)s ended, and their calendar link.",
            "%(num)d sessions of %(email)s ended, and their calendar link.",
            ended,
            email=user.email,
        ),
        "success",
    )
    return redirect(url_for("auth.edit_user", user_id=user.id))


@bp.route("/admin/alerts")
@roles(ADMIN)
def list_alerts():
    """Accounts being locked after wrong passwords, and addresses trying many accounts."""
    return render_template("auth/alerts.html", alerts=recent_alerts(), form=ConfirmForm())


@bp.route("/admin/alerts/seen", methods=["POST"])
@roles(ADMIN)
def alerts_seen():
    """Mark the open alerts seen: they leave the banner and stay in the list."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    seen = mark_alerts_seen(by=current_user)
    db.session.commit()
    flash(ngettext("%(num)d alert marked seen.", "%(num)d alerts marked seen.", seen), "success")
    return redirect(url_for("auth.list_alerts"))


@bp.app_context_processor
def security_alerts() -> dict:
    """Admins see on every page how many security alerts nobody has looked at yet."""
    try:
        if current_user and current_user.is_authenticated and current_user.is_admin:
            return {"open_alerts": open_alert_count()}
    except SQLAlchemyError:  # an error page while the database is down or busy
        db.session.rollback()
    return {}


@bp.route("/language", methods=["POST"])
@public
def language():
    """Switch the interface language: kept on the account, or for this visit when logged out."""
    target = _safe_next(request.form.get("next"))
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            set_locale(current_user, form.locale.data, by=current_user)
            db.session.commit()
        else:
            session["locale"] = form.locale.data
    return redirect(target)
