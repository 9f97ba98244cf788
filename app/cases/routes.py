from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError

from app import dates
from app.access import EVERYONE, roles
from app.audit.queries import case_history, shown_changes
from app.auth.queries import assignable_users
from app.cases.forms import (
    CaseFilterForm,
    CloseCaseForm,
    DeadlineActionForm,
    DeadlineForm,
    ReopenCaseForm,
    TimelineEntryForm,
    case_form,
)
from app.cases.models import Case
from app.cases.queries import (
    BrokenCursor,
    case_explanations,
    case_page,
    load_case_or_404,
    regions_in_use,
)
from app.cases.services import (
    act_on_deadline,
    add_deadline,
    add_timeline_entry,
    close_case,
    reopen_case,
    update_case,
)
from app.cases.terms import days_left
from app.deadlines.models import SOON, URGENT
from app.errors import EditConflict, RuleViolation
from app.extensions import db
from app.forms_base import form_status, show_refusal
from app.rendered import remembered_body

bp = Blueprint("cases", __name__)


def _saved(case: Case, message: str):
    """Done: say so, and show the case (POST/redirect/GET)."""
    flash(message, "success")
    return redirect(url_for("cases.show_case", reference=case.reference))


def _conflict(form, case: Case | None):
    """Someone saved the case since this form was opened: show what they saved beside what this
    person typed, so nothing is lost and nothing is overwritten."""
    case = db.session.merge(case) if case is not None else None
    if case is None:  # the database caught it: find the case again by its reference
        case = load_case_or_404(request.view_args["reference"], current_user)
    db.session.refresh(case)
    current = case_form(current_user, obj=case, formdata=None)
    rows = [
        (
            field.label.text,
            _shown(current[name]),
            _shown(field),
            _shown(current[name]) != _shown(field),
        )
        for name, field in form._fields.items()
        if name not in ("csrf_token", "version")
    ]
    return render_template("cases/conflict.html", case=case, rows=rows), 409


def _shown(field) -> str:
    """A field's value as a person reads it (a choice's label, not its code)."""
    if field.type == "SelectField":
        return next(
            (
                str(label)
                for value, label, *_ in field.iter_choices()
                if str(value) == str(field.data)
            ),
            "",
        )
    return "" if field.data is None else str(field.data)


def _action_form(deadline_id: int, formdata=None) -> DeadlineActionForm:
    # One form per deadline, each with its own field ids.
    return DeadlineActionForm(prefix=f"d{deadline_id}", formdata=formdata)


def _render_case(case: Case, status: int = 200, **forms):
    """The case page; ``forms`` replaces a blank form with one that holds errors."""
    body = _case_body(case, **forms)
    return render_template("cases/detail.html", case=case, body=body), status


def _case_body(case: Case, **forms) -> str:
    forms.setdefault("entry_form", TimelineEntryForm(formdata=None))
    forms.setdefault("close_form", CloseCaseForm(formdata=None))
    forms.setdefault("reopen_form", ReopenCaseForm(formdata=None))
    forms.setdefault("deadline_form", DeadlineForm(formdata=None))
    forms["action_forms"] = {d.id: _action_form(d.id) for d in case.deadlines} | forms.get(
        "action_forms", {}
    )
    key = case.sealing_key()
    history = [(e, shown_changes(e, key, case.reference)) for e in case_history(case.id)]
    explanations = case_explanations(case)
    return Markup(
        render_template(
            "cases/_detail.html", case=case, history=history, explanations=explanations, **forms
        )
    )


@bp.route("/")
@roles(*EVERYONE)
def index():
    """Home: the case list."""
    return redirect(url_for("cases.list_cases"))


@bp.route("/cases")
@roles(*EVERYONE)
def list_cases():
    """The cases the user may see, filtered, a page at a time: the list rendered again only when
    something it shows changed (app/rendered.py)."""
    body, status = remembered_body("cases/list.html", _list_body)
    return render_template("cases/list.html", body=body), status


def _list_body() -> tuple[str, int]:
    form = CaseFilterForm(
        request.args,
        assignees=assignable_users() if current_user.is_coordinator else (),
        regions=regions_in_use(),
    )
    form.validate()
    per_page = current_app.config["CASES_PER_PAGE"]
    try:
        pagination = case_page(
            form.filters(),
            current_user,
            per_page,
            after=request.args.get("after"),
            before=request.args.get("before"),
        )
    except BrokenCursor:
        form.form_errors.append(
            _("The link to that page of the list is broken: here is its first page.")
        )
        pagination = case_page(form.filters(), current_user, per_page)
    body = render_template("cases/_list.html", form=form, pagination=pagination)
    return body, form_status(form)


@bp.route("/cases/<reference>")
@roles(*EVERYONE)
def show_case(reference: str):
    """One case with its timeline: access checked, then the page's body rendered again only when
    something it shows changed (app/rendered.py; its forms' tokens are this session's)."""
    case = load_case_or_404(reference, current_user)
    body, status = remembered_body(f"case {case.id}", lambda: (_case_body(case), 200))
    return render_template("cases/detail.html", case=case, body=body), status


@bp.route("/cases/<reference>/edit", methods=["GET", "POST"])
@roles(*EVERYONE)
def edit_case(reference: str):
    """Change a case's details."""
    case = load_case_or_404(reference, current_user)
    form = case_form(current_user, obj=case)
    if form.validate_on_submit():
        try:
            update_case(case, form.case_data(), by=current_user, seen_version=form.version.data)
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        except (EditConflict, StaleDataError) as conflict:
            db.session.rollback()
            return _conflict(form, getattr(conflict, "record", None))
        else:
            db.session.commit()
            return _saved(case, _("Case saved."))
    return render_template(
        "cases/form.html", form=form, client=case.client, case=case, regions=regions_in_use()
    ), form_status(form)


@bp.route("/cases/<reference>/entries", methods=["POST"])
@roles(*EVERYONE)
def add_entry(reference: str):
    """Add a note, hearing, filing or decision to the timeline."""
    case = load_case_or_404(reference, current_user)
    form = TimelineEntryForm()
    if form.validate_on_submit():
        try:
            add_timeline_entry(
                case,
                form.kind.data,
                form.occurred_on.data,
                form.body.data,
                by=current_user,
                hearing_time=form.hearing_time.data,
                court=form.court.data,
                room=form.room.data,
            )
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        except StaleDataError:
            db.session.rollback()
            return _conflict(form, None)
        else:
            db.session.commit()
            return _saved(case, _("Added to the timeline."))
    return _render_case(case, 422, entry_form=form)


@bp.route("/cases/<reference>/close", methods=["POST"])
@roles(*EVERYONE)
def close(reference: str):
    """Close the case with an outcome and the date it was reached."""
    case = load_case_or_404(reference, current_user)
    form = CloseCaseForm()
    if form.validate_on_submit():
        try:
            close_case(
                case, form.outcome.data, form.closed_on.data, by=current_user, note=form.note.data
            )
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        except StaleDataError:
            db.session.rollback()
            return _conflict(form, None)
        else:
            db.session.commit()
            return _saved(case, _("Case closed: %(outcome)s.", outcome=case.outcome_label))
    return _render_case(case, 422, close_form=form)


@bp.route("/cases/<reference>/reopen", methods=["POST"])
@roles(*EVERYONE)
def reopen(reference: str):
    """Reopen a closed case; the timeline keeps the outcome it had."""
    case = load_case_or_404(reference, current_user)
    form = ReopenCaseForm()
    if form.validate_on_submit():
        try:
            reopen_case(case, by=current_user, note=form.note.data)
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        except StaleDataError:
            db.session.rollback()
            return _conflict(form, None)
        else:
            db.session.commit()
            return _saved(case, _("Case reopened."))
    return _render_case(case, 422, reopen_form=form)


@bp.route("/cases/<reference>/deadlines", methods=["POST"])
@roles(*EVERYONE)
def add_deadline_by_hand(reference: str):
    """Add a deadline that no rule gives (a hearing's filing date, a court's order)."""
    case = load_case_or_404(reference, current_user)
    form = DeadlineForm()
    if form.validate_on_submit():
        try:
            add_deadline(
                case,
                form.due_on.data,
                form.title.data,
                by=current_user,
                legal_basis=form.legal_basis.data,
            )
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        except StaleDataError:
            db.session.rollback()
            return _conflict(form, None)
        else:
            db.session.commit()
            return _saved(case, _("Deadline added."))
    return _render_case(case, 422, deadline_form=form)


@bp.route("/cases/<reference>/deadlines/<int:deadline_id>", methods=["POST"])
@roles(*EVERYONE)
def deadline_action(reference: str, deadline_id: int):
    """Record a deadline as met or missed, or its new date after a petition."""
    case = load_case_or_404(reference, current_user)
    deadline = next((d for d in case.deadlines if d.id == deadline_id), None) or abort(404)
    form = _action_form(deadline.id, request.form)
    if form.validate_on_submit():
        try:
            act_on_deadline(
                deadline, form.action.data, form.on.data, by=current_user, note=form.note.data
            )
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        except StaleDataError:
            db.session.rollback()
            return _conflict(form, None)
        else:
            db.session.commit()
            return _saved(case, _("Deadline updated."))
    return _render_case(case, 422, action_forms={deadline.id: form})


@bp.app_template_filter("urgency")
def urgency(deadline) -> str:
    """A class for how pressing a deadline is: overdue, urgent, soon (URGENT, SOON)."""
    if not deadline.is_open:
        return "resolved"
    return urgency_of(days_left(deadline.due_on, dates.today()))


@bp.app_template_filter("urgency_of")
def urgency_of(left: int) -> str:
    """The class for a deadline ``left`` days away (negative: overdue)."""
    return "overdue" if left < 0 else "urgent" if left <= URGENT else "soon" if left <= SOON else ""


@bp.app_template_filter("days_left_text")
def days_left_text(deadline) -> str:
    return left_text(days_left(deadline.due_on, dates.today()))


@bp.app_template_filter("left_text")
def left_text(left: int) -> str:
    """ "overdue by 3 days", "due today", "2 days left"."""
    if left < 0:
        return ngettext("overdue by %(num)d day", "overdue by %(num)d days", -left)
    if left == 0:
        return _("due today")
    return ngettext("%(num)d day left", "%(num)d days left", left)
