from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app import dates
from app.access import ADMIN, STAFF, roles
from app.auth.queries import assignable_users
from app.auth.services import AccountLocked, confirm_password, locked_message, password_check
from app.cases.forms import CaseFilterForm
from app.cases.queries import regions_in_use
from app.csvfiles import csv_response, download
from app.exports.forms import ConfirmPasswordForm
from app.exports.services import export_cases
from app.exports.tables import REPORT_HEADERS, report_table
from app.extensions import db
from app.forms_base import form_status
from app.reports.forms import report_filter_form
from app.reports.queries import report_rows

bp = Blueprint("exports", __name__, url_prefix="/exports")


@bp.route("/report.csv")
@roles(*STAFF)
def report_csv():
    """The report CSV for the dashboard's filters (``from``, ``to``, region, …)."""
    form = report_filter_form(request.args)
    if form.errors:
        return _bad_filters(form)
    period = form.period()
    rows, benchmarks = report_rows(period, form.report_filters())
    return csv_response(
        _dated("report"),
        REPORT_HEADERS,
        report_table(period, rows, benchmarks),
    )


def _case_filter_form(args) -> CaseFilterForm:
    """The case list's filters, read the same way the list reads them."""
    form = CaseFilterForm(args, assignees=assignable_users(), regions=regions_in_use())
    form.validate()
    return form


def _bad_filters(form):
    """400, naming each filter that cannot be used: an export never quietly drops one (and so
    gives more than was asked for)."""
    names = ", ".join(str(field.label.text) for field in form if field.errors)
    text = _(
        "Nothing was exported: these filters are not valid: %(names)s. Go back, set them "
        "again and download again.",
        names=names,
    )
    page = render_template("errors/error.html", code=400, title=_("Check the filters"), text=text)
    return page, 400


def _dated(name: str) -> str:
    return f"huquq-{name}-{dates.today().isoformat()}.csv"


@bp.route("/cases.csv")
@roles(*STAFF)
def cases_csv():
    """The cases CSV, pseudonymised, with the case list's filters."""
    form = _case_filter_form(request.args)
    if form.errors:
        return _bad_filters(form)
    user = current_user._get_current_object()
    return download(_dated("cases"), export_cases(form.filters(), user, False, by=user))


@bp.route("/cases-identified", methods=["GET", "POST"])
@roles(ADMIN)
def identified_csv():
    """The cases CSV with clients' names: for admins, after they confirm their password."""
    filter_form = _case_filter_form(request.args)
    if filter_form.errors:
        return _bad_filters(filter_form)
    form = ConfirmPasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            with password_check(user.email, request.remote_addr, "export") as check:
                db.session.commit()  # counted before it is hashed; nothing held while it is
                confirmed = confirm_password(user, check, form.password.data)
        except AccountLocked as lock:
            confirmed = False
            form.form_errors.append(locked_message(lock))
        db.session.commit()  # a wrong password is counted and audited either way
        if confirmed:
            filters = filter_form.filters()
            return download(_dated("cases-identified"), export_cases(filters, user, True, by=user))
        if not form.form_errors:
            form.password.errors = [_("That is not your password.")]
    return render_template("exports/identified.html", form=form), form_status(form)
