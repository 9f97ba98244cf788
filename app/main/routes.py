"""Health check and error pages."""

import logging
from contextlib import suppress

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.access import public
from app.errors import BadInput
from app.extensions import db

bp = Blueprint("main", __name__)
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


def handle_database_down(error: Exception):
    """The database cannot be reached (or is busy past the timeout): a page that says so and
    when to try again — never a traceback. Nothing was saved."""
    with suppress(sa.exc.SQLAlchemyError):
        db.session.rollback()
    log.error("database unavailable: %s", type(error).__name__)
    if request.endpoint == "main.healthz":
        return jsonify(status="unavailable", database="unreachable"), 503, {"Retry-After": "30"}
    response = render_template(
        "errors/error.html",
        code=503,
        title=_("Temporarily unavailable"),
        text=_(
            "The database cannot be reached right now. Nothing was saved. Try again in a "
            "minute; if it lasts, tell your coordinator."
        ),
    )
    return response, 503, {"Retry-After": "30"}


def handle_unexpected_error(error: Exception):
    db.session.rollback()
    log.exception("unhandled error")
    return render_error(500)
