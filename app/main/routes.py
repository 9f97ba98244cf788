"""Health check and error pages."""

import logging
from contextlib import suppress

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.access import public
from app.database import is_busy
from app.errors import BadInput, Busy
from app.extensions import db

bp = Blueprint("main", __name__)
BUSY_RETRY_AFTER = 5  # seconds: a lock or a hashing slot is usually free again by then
log = logging.getLogger(__name__)


@bp.route("/healthz")
@public
def healthz():
    """200 with a small JSON body once the app and its database answer; 503 otherwise."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        log.exception("health check: database unreachable")
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


ERROR_TEXTS = {
    400: lambda: (
        _("Bad request"),
        _("The form was out of date or incomplete. Go back, reload the page and try again."),
    ),
    403: lambda: (_("Not allowed"), _("Your account may not open this page.")),
    404: lambda: (_("Not found"), _("There is no such page, or it is not available to you.")),
    405: lambda: (_("Not allowed"), _("This address does not take that kind of request.")),
    413: lambda: (
        _("File too large"),
        _(
            "Files up to %(mb)d MB can be uploaded. Split the file into smaller ones and import "
            "them one by one.",
            mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
        ),
    ),
    422: lambda: (_("Check the form"), _("Some of what was sent could not be accepted.")),
    500: lambda: (
        _("Something went wrong"),
        _("Nothing was saved. Try again; if it happens again, tell your coordinator."),
    ),
}


def render_error(code: int, text: str | None = None):
    """The error page for ``code``, with its usual text unless ``text`` says what was wrong."""
    title, usual = ERROR_TEXTS.get(code, ERROR_TEXTS[500])()
    return render_template("errors/error.html", code=code, title=title, text=text or usual), code


def handle_http_error(error: HTTPException):
    said = error.description if isinstance(error, BadInput) else None
    return render_error(error.code or 500, said)


def _busy_page(text: str, retry_after: int):
    response = render_template("errors/error.html", code=503, title=_("Busy, try again"), text=text)
    return response, 503, {"Retry-After": str(retry_after)}


def handle_database_down(error: Exception):
    """The database cannot be reached, or is busy past the timeout: a page that says which, and
    when to try again — never a traceback, never a "form out of date". Nothing was saved."""
    with suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()
    busy = is_busy(error)
    log.error("database %s: %s", "busy" if busy else "unavailable", type(error).__name__)
    retry_after = BUSY_RETRY_AFTER if busy else 30
    if request.endpoint == "main.healthz":
        state = "busy" if busy else "unreachable"
        return jsonify(status="unavailable", database=state), 503, {"Retry-After": str(retry_after)}
    if busy:
        return _busy_page(
            _(
                "The database is busy with other changes right now. Nothing was saved. Wait a "
                "few seconds and send the form again."
            ),
            retry_after,
        )
    response = render_template(
        "errors/error.html",
        code=503,
        title=_("Temporarily unavailable"),
        text=_(
            "The database cannot be reached right now. Nothing was saved. Try again in a "
            "minute; if it lasts, tell your coordinator."
        ),
    )
    return response, 503, {"Retry-After": str(retry_after)}


def handle_busy(error: Busy):
    """Too many at once (e.g. a flood of logins takes every password-hashing slot): 503 "busy,
    try again", with nothing done — a brief page, since a flood is answered with many."""
    with suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()
    response = render_template(
        "errors/brief.html",
        title=_("Busy, try again"),
        text=_(
            "Many people are logging in or confirming passwords at this moment. Nothing was "
            "saved. Wait a few seconds and try again."
        ),
    )
    return response, 503, {"Retry-After": str(error.retry_after)}


def handle_unexpected_error(error: Exception):
    db.session.rollback()
    log.exception("unhandled error")
    return render_error(500)
