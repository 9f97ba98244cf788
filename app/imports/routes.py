import hashlib
import os
import secrets
import time
from itertools import chain
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
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
from app.database import begin_reading, is_busy, reattach
from app.errors import RuleViolation
from app.exports.queries import CASE_HEADERS
from app.extensions import db
from app.forms_base import form_status
from app.imports.forms import ApplyForm, UploadForm
from app.imports.services import apply_import, plan_import

bp = Blueprint("imports", __name__, url_prefix="/imports")
KEEP_UPLOADS_FOR = 3600  # seconds between the dry run and applying it
PROGRESS = "<!-- progress -->"


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    # Files left by dry runs nobody applied: they hold clients' names, so they do not linger.
    for old in folder.iterdir():
        if time.time() - old.stat().st_mtime > KEEP_UPLOADS_FOR:
            old.unlink(missing_ok=True)
    return folder


def _keep(data: bytes) -> None:
    """Keep the checked file until it is applied; only this session can apply it."""
    token = secrets.token_hex(16)
    path = _folder() / token
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    session["import"] = {"token": token, "sha256": hashlib.sha256(data).hexdigest()}


def _kept() -> tuple[Path, bytes] | None:
    kept = session.get("import")
    if not kept:
        return None
    path = _folder() / kept["token"]
    if not path.exists():
        return None
    data = path.read_bytes()
    return (path, data) if hashlib.sha256(data).hexdigest() == kept["sha256"] else None


@bp.route("/", methods=["GET", "POST"])
@roles(*STAFF)
def upload():
    """Upload a CSV of cases; the first step is always a dry run."""
    form = UploadForm()
    plan = None
    if form.validate_on_submit():
        data = form.file.data.read()
        plan = plan_import(data)
        if plan.ok:
            _keep(data)
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
    kept = _kept()
    if not form.validate_on_submit() or kept is None:
        return redirect(url_for("imports.upload"))
    path, data = kept
    session.pop("import", None)
    # A POST's transaction takes SQLite's write lock; checking the file again only reads.
    db.session.commit()
    begin_reading()
    plan = plan_import(data)  # again: the database may have changed since the dry run
    if not plan.ok:
        path.unlink(missing_ok=True)
        return render_template(
            "imports/upload.html", form=UploadForm(), plan=plan, headers=CASE_HEADERS
        ), 422
    # The page is rendered now, while the request's session is open; only the progress lines
    # are produced as the import runs.
    head, tail = render_template("imports/applying.html", total=len(plan.rows)).split(PROGRESS)
    user = current_user._get_current_object()
    lines = chain([head], _apply(plan, path, user), [tail])
    return Response(stream_with_context(lines), content_type="text/html; charset=utf-8")


def _apply(plan, path: Path, user):
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
    finally:
        path.unlink(missing_ok=True)
    yield Markup('<li class="done">%s</li>') % _(
        "Done. New cases: %(created)d; updated: %(updated)d; unchanged: %(unchanged)d; "
        "new clients: %(new_clients)d.",
        **totals,
    )
    yield Markup('<li><a href="%s">%s</a></li>') % (url_for("cases.list_cases"), _("To the cases"))
