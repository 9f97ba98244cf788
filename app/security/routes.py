from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import dates
from app.access import ADMIN, roles
from app.errors import RuleViolation
from app.extensions import db
from app.forms_base import form_status, show_refusal
from app.security.forms import RetentionForm
from app.security.queries import retention_days, retention_due
from app.security.services import set_retention

bp = Blueprint("security", __name__, url_prefix="/admin")


@bp.route("/retention", methods=["GET", "POST"])
@roles(ADMIN)
def retention():
    """How long identifying data is kept after a client's last case closes."""
    form = RetentionForm(data={"days": retention_days()})
    if form.validate_on_submit():
        try:
            set_retention(form.days.data, by=current_user)
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Retention saved."), "success")
            return redirect(url_for("security.retention"))
    days = retention_days()
    due = len(retention_due(dates.today(), days)) if days else None
    return render_template("security/retention.html", form=form, days=days, due=due), (
        form_status(form)
    )
