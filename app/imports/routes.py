from itertools import chain

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import OperationalError

from app.access import STAFF, roles
from app.csvfiles import CASE_HEADERS
from app.database import begin_reading, is_busy, reattach
from app.errors import RuleViolation
from app.extensions import db
from app.forms_base import form_status
from app.imports.forms import ApplyForm, UploadForm
from app.imports.services import apply_import, plan_import
from app.uploads import UploadUnreadable, discard_upload, keep_upload, kept_upload

bp = Blueprint("imports", __name__, url_prefix="/imports")
PROGRESS = "<!-- progress -->"


@bp.route("/", methods=["GET", "POST"])
@roles(*STAFF)
def upload():
    """Upload a CSV of cases; the first step is always a dry run."""
    form = UploadForm()
    plan = None
    if form.validate_on_submit():
        data = form.file.data.read()
        discard_upload(session)  # a new file replaces the one checked before
        plan = plan_import(data)
        if plan.ok:
            keep_upload(session, current_user.id, data)
            return render_template("imports/dry_run.html", plan=plan, form=ApplyForm())
    return render_template("imports/upload.html", form=form, plan=plan, headers=CASE_HEADERS), (
        422 if plan is not None else form_status(form)
    )


@bp.route("/apply", methods=["POST"])
@roles(*STAFF)
def apply():
    """Apply the file checked in the dry run, showing progress as its rows are prepared; they
    are written in one short transaction at the end."""
    form = ApplyForm()
    if not form.validate_on_submit():
        return redirect(url_for("imports.upload"))
    try:
        data = kept_upload(session, current_user.id)
    except UploadUnreadable:
        flash(
            _(
                "The checked file could not be opened: it was changed or damaged on the "
                "server. Nothing was imported; upload the file again."
            ),
            "error",
        )
        return redirect(url_for("imports.upload"))
    # Used once, whatever happens next: the sealed file is erased now.
    discard_upload(session)
    if data is None:
        flash(
            _(
                "No checked file is waiting: it was applied, cancelled or replaced, or an hour "
                "has passed. Upload the file again."
            ),
            "info",
        )
        return redirect(url_for("imports.upload"))
    # A POST's transaction takes SQLite's write lock; checking the file again only reads.
    db.session.commit()
    begin_reading()
    plan = plan_import(data)  # again: the database may have changed since the dry run
    if not plan.ok:
        return render_template(
            "imports/upload.html", form=UploadForm(), plan=plan, headers=CASE_HEADERS
        ), 422
    # The page is rendered now, while the request's session is open; only the progress lines
    # are produced as the import runs.
    head, tail = render_template("imports/applying.html", total=len(plan.rows)).split(PROGRESS)
    user = current_user._get_current_object()
    lines = chain([head], _apply(plan, user), [tail])
    return Response(stream_with_context(lines), content_type="text/html; charset=utf-8")


@bp.route("/cancel", methods=["POST"])
@roles(*STAFF)
def cancel():
    """Drop the file checked in the dry run: it is erased, nothing is imported."""
    if ApplyForm().validate_on_submit() and discard_upload(session):
        flash(_("Import cancelled; the uploaded file was erased."), "info")
    return redirect(url_for("imports.upload"))


def _apply(plan, user):
    """The import, as lines of the page that reports its progress."""
    steps = apply_import(plan, reattach(user))
    try:
        while True:
            try:
                done = next(steps)
            except StopIteration as finished:
                totals = finished.value
                break
            yield Markup("<li>%s</li>") % ngettext(
                "%(done)d of %(num)d row…", "%(done)d of %(num)d rows…", len(plan.rows), done=done
            )
        db.session.commit()
    except RuleViolation as refused:  # a case changed meanwhile, or a client's data erased
        db.session.rollback()
        yield Markup('<li class="error">%s</li>') % refused.message
        return
    except OperationalError as error:
        db.session.rollback()
        busy = is_busy(error)
        current_app.logger.warning("import not written: database %s", "busy" if busy else "down")
        yield Markup('<li class="error">%s</li>') % (
            _("The database was busy; nothing was imported. Import the file again.")
            if busy
            else _("The database could not be reached; nothing was imported.")
        )
        return
    except Exception:
        db.session.rollback()
        current_app.logger.exception("import failed")
        yield Markup('<li class="error">%s</li>') % _("The import failed; nothing was imported.")
        return
    yield Markup('<li class="done">%s</li>') % _(
        "Done. New cases: %(created)d; updated: %(updated)d; unchanged: %(unchanged)d; "
        "new clients: %(new_clients)d.",
        **totals,
    )
    yield Markup('<li><a href="%s">%s</a></li>') % (url_for("cases.list_cases"), _("To the cases"))
