from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.access import EVERYONE, load_case_or_404, load_client_or_404, roles
from app.auth.queries import assignable_users
from app.cases.forms import (
    CaseFilterForm,
    CaseForm,
    CloseCaseForm,
    ReopenCaseForm,
    TimelineEntryForm,
)
from app.cases.queries import case_page, regions_in_use
from app.cases.services import (
    add_timeline_entry,
    close_case,
    open_case,
    reopen_case,
    update_case,
)
from app.clients.forms import ClientForm
from app.clients.services import create_client
from app.errors import RuleViolation
from app.extensions import db

bp = Blueprint("cases", __name__)


def _case_form(**kwargs) -> CaseForm:
    """The case form; only coordinators and admins see the assignment field."""
    assignees = assignable_users() if current_user.is_coordinator else None
    return CaseForm(assignees=assignees, **kwargs)


def _form_status(*forms) -> int:
    return 422 if any(f.errors for f in forms) else 200


def _attach(error: RuleViolation, form) -> None:
    """Show a service's refusal beside its field, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@bp.route("/")
@roles(*EVERYONE)
def index():
    """Home: the case list."""
    return redirect(url_for("cases.list_cases"))


@bp.route("/cases")
@roles(*EVERYONE)
def list_cases():
    """The cases the user may see, filtered, a page at a time."""
    form = CaseFilterForm(
        request.args,
        assignees=assignable_users() if current_user.is_coordinator else (),
        regions=regions_in_use(),
    )
    form.validate()
    page = request.args.get("page", 1, type=int)
    pagination = case_page(
        form.filters(), current_user, max(page, 1), current_app.config["CASES_PER_PAGE"]
    )
    return render_template("cases/list.html", form=form, pagination=pagination)


@bp.route("/cases/new", methods=["GET", "POST"])
@roles(*EVERYONE)
def intake():
    """Log a new case for a new client, on one page."""
    client_form = ClientForm(prefix="client")
    case_form = _case_form(prefix="case", meta={"csrf": False})
    if request.method == "POST":
        both_valid = client_form.validate_on_submit() & case_form.validate()
        if both_valid:
            try:
                client = create_client(client_form.data, by=current_user)
                case = open_case(client, case_form.case_data(), by=current_user)
            except RuleViolation as e:
                db.session.rollback()
                _attach(e, case_form)
            else:
                db.session.commit()
                flash(_("Case %(reference)s opened.", reference=case.reference), "success")
                return redirect(url_for("cases.show_case", reference=case.reference))
    return render_template(
        "cases/intake.html", client_form=client_form, form=case_form, regions=regions_in_use()
    ), _form_status(client_form, case_form)


@bp.route("/clients/<pseudonym>/cases/new", methods=["GET", "POST"])
@roles(*EVERYONE)
def new_case(pseudonym: str):
    """Open another case for an existing client."""
    client = load_client_or_404(pseudonym, current_user)
    form = _case_form()
    if form.validate_on_submit():
        try:
            case = open_case(client, form.case_data(), by=current_user)
        except RuleViolation as e:
            db.session.rollback()
            _attach(e, form)
        else:
            db.session.commit()
            flash(_("Case %(reference)s opened.", reference=case.reference), "success")
            return redirect(url_for("cases.show_case", reference=case.reference))
    return render_template(
        "cases/form.html", form=form, client=client, case=None, regions=regions_in_use()
    ), _form_status(form)


def _render_case(case, status: int = 200, **forms):
    forms.setdefault("entry_form", TimelineEntryForm(formdata=None))
    forms.setdefault("close_form", CloseCaseForm(formdata=None))
    forms.setdefault("reopen_form", ReopenCaseForm(formdata=None))
    return render_template("cases/detail.html", case=case, **forms), status


@bp.route("/cases/<reference>")
@roles(*EVERYONE)
def show_case(reference: str):
    """One case with its timeline."""
    return _render_case(load_case_or_404(reference, current_user))


@bp.route("/cases/<reference>/edit", methods=["GET", "POST"])
@roles(*EVERYONE)
def edit_case(reference: str):
    """Change a case's details."""
    case = load_case_or_404(reference, current_user)
    form = _case_form(obj=case)
    if form.validate_on_submit():
        try:
            update_case(case, form.case_data(), by=current_user)
        except RuleViolation as e:
            db.session.rollback()
            _attach(e, form)
        else:
            db.session.commit()
            flash(_("Case saved."), "success")
            return redirect(url_for("cases.show_case", reference=case.reference))
    return render_template(
        "cases/form.html", form=form, client=case.client, case=case, regions=regions_in_use()
    ), _form_status(form)


@bp.route("/cases/<reference>/entries", methods=["POST"])
@roles(*EVERYONE)
def add_entry(reference: str):
    """Add a note, hearing, filing or decision to the timeline."""
    case = load_case_or_404(reference, current_user)
    form = TimelineEntryForm()
    if not form.validate_on_submit():
        return _render_case(case, 422, entry_form=form)
    add_timeline_entry(case, form.kind.data, form.occurred_on.data, form.body.data, by=current_user)
    db.session.commit()
    flash(_("Added to the timeline."), "success")
    return redirect(url_for("cases.show_case", reference=case.reference))


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
        except RuleViolation as e:
            db.session.rollback()
            _attach(e, form)
        else:
            db.session.commit()
            flash(_("Case closed: %(outcome)s.", outcome=case.outcome_label), "success")
            return redirect(url_for("cases.show_case", reference=case.reference))
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
        except RuleViolation as e:
            db.session.rollback()
            _attach(e, form)
        else:
            db.session.commit()
            flash(_("Case reopened."), "success")
            return redirect(url_for("cases.show_case", reference=case.reference))
    return _render_case(case, 422, reopen_form=form)
