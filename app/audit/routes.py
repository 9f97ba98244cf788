from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from app.access import ADMIN, roles
from app.audit.forms import AuditFilterForm
from app.audit.queries import accounts, case_id_for, event_page, shown_changes
from app.forms_base import form_status
from app.urls import page_number

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.route("")
@roles(ADMIN)
def list_events():
    """The audit trail, filtered by user, case and date."""
    form = AuditFilterForm(request.args, users=accounts())
    form.validate()
    filters = form.filters()
    if reference := filters.pop("case", None):
        filters["case_id"] = case_id_for(reference)
        if filters["case_id"] is None:
            form.case.errors = [_("No case has this reference.")]
    pagination = event_page(filters, page_number(), current_app.config["CASES_PER_PAGE"] * 2)
    events = [(event, shown_changes(event)) for event in pagination.items]
    return render_template(
        "audit/list.html", form=form, pagination=pagination, events=events
    ), form_status(form)
