from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.access import EVERYONE, STAFF, roles
from app.audit.queries import entity_history, shown_changes
from app.cases.forms import case_form
from app.cases.queries import cases_of_client, regions_in_use
from app.cases.services import open_case
from app.clients.countries import country_name
from app.clients.forms import ClientForm, ClientSearchForm
from app.clients.models import PossibleDuplicate
from app.clients.queries import (
    clients_matching,
    load_client_or_404,
    open_possible_duplicates,
    possible_duplicates_of,
    recent_clients,
)
from app.clients.services import (
    add_client_with_case,
    check_duplicates,
    create_client,
    mark_duplicate_checked,
    update_client,
)
from app.errors import RuleViolation
from app.extensions import db
from app.forms_base import BaseForm, form_status, show_refusal

bp = Blueprint("clients", __name__)


@bp.route("/clients")
@roles(*EVERYONE)
def list_clients():
    """The most recently added clients, and the name search."""
    return render_template(
        "clients/list.html",
        form=ClientSearchForm(),
        clients=recent_clients(current_user),
        searched=False,
    )


@bp.route("/clients/search", methods=["POST"])
@roles(*EVERYONE)
def search_clients():
    """Find clients by name (a POST, so the name stays out of URLs and logs)."""
    form = ClientSearchForm()
    if not form.validate_on_submit():
        return render_template("clients/list.html", form=form, clients=[], searched=False), 422
    clients = clients_matching(form.q.data, current_user)
    return render_template("clients/list.html", form=form, clients=clients, searched=True)


@bp.route("/clients/new", methods=["GET", "POST"])
@roles(*EVERYONE)
def new_client():
    """Add a client (asking first about clients the user may see who may be the same person)."""
    form = ClientForm()
    duplicates = []
    if form.validate_on_submit():
        check = check_duplicates(
            form.client_data(), current_user, confirmed=form.different_person.data
        )
        db.session.commit()  # the check is on record, whatever happens next
        duplicates = check.to_confirm
        if not duplicates:
            try:
                client = create_client(
                    form.client_data(), by=current_user, possible_duplicates=check.to_flag
                )
            except RuleViolation as refusal:
                show_refusal(form, refusal)
            else:
                db.session.commit()
                flash(_("Client added."), "success")
                return redirect(url_for("clients.show_client", pseudonym=client.pseudonym))
    return render_template("clients/form.html", form=form, client=None, duplicates=duplicates), (
        422 if duplicates else form_status(form)
    )


@bp.route("/cases/new", methods=["GET", "POST"])
@roles(*EVERYONE)
def intake():
    """Log a new case for a new client, on one page."""
    client_form = ClientForm(prefix="client")
    form = case_form(current_user, prefix="case", meta={"csrf": False})
    duplicates = []
    # Both forms are validated, so every error shows at once.
    if client_form.validate_on_submit() & form.validate_on_submit():
        check = check_duplicates(
            client_form.client_data(), current_user, confirmed=client_form.different_person.data
        )
        db.session.commit()  # the check is on record, whatever happens next
        duplicates = check.to_confirm
        if not duplicates:
            try:
                case = add_client_with_case(
                    client_form.client_data(),
                    form.case_data(),
                    by=current_user,
                    possible_duplicates=check.to_flag,
                )
            except RuleViolation as refusal:
                show_refusal(form, refusal)
            else:
                db.session.commit()
                flash(_("Case %(reference)s opened.", reference=case.reference), "success")
                return redirect(url_for("cases.show_case", reference=case.reference))
    status = 422 if duplicates else form_status(client_form, form)
    return render_template(
        "clients/intake.html",
        client_form=client_form,
        form=form,
        regions=regions_in_use(),
        duplicates=duplicates,
    ), status


@bp.route("/clients/<pseudonym>/cases/new", methods=["GET", "POST"])
@roles(*EVERYONE)
def new_case(pseudonym: str):
    """Open another case for an existing client."""
    client = load_client_or_404(pseudonym, current_user)
    form = case_form(current_user)
    if form.validate_on_submit():
        try:
            case = open_case(client, form.case_data(), by=current_user)
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Case %(reference)s opened.", reference=case.reference), "success")
            return redirect(url_for("cases.show_case", reference=case.reference))
    return render_template(
        "cases/form.html", form=form, client=client, case=None, regions=regions_in_use()
    ), form_status(form)


@bp.route("/clients/duplicates")
@roles(*STAFF)
def list_duplicates():
    """Clients added who may be someone the organisation already has, for a coordinator."""
    return render_template(
        "clients/duplicates.html", flags=open_possible_duplicates(), form=BaseForm()
    )


@bp.route("/clients/duplicates/<int:flag_id>/checked", methods=["POST"])
@roles(*STAFF)
def duplicate_checked(flag_id: int):
    """A coordinator has looked at a possible duplicate."""
    flag = db.session.get(PossibleDuplicate, flag_id) or abort(404)
    if not BaseForm().validate_on_submit():
        abort(400)
    mark_duplicate_checked(flag, by=current_user)
    db.session.commit()
    flash(_("Marked as checked."), "success")
    return redirect(url_for("clients.list_duplicates"))


@bp.route("/clients/<pseudonym>")
@roles(*EVERYONE)
def show_client(pseudonym: str):
    """One client and the cases of theirs the user may see."""
    client = load_client_or_404(pseudonym, current_user)
    cases = cases_of_client(client.id, current_user)
    key = client.sealing_key()
    history = [
        (e, shown_changes(e, key, client.pseudonym)) for e in entity_history("clients", client.id)
    ]
    duplicates = possible_duplicates_of(client) if current_user.is_coordinator else []
    return render_template(
        "clients/detail.html", client=client, cases=cases, history=history, duplicates=duplicates
    )


@bp.route("/clients/<pseudonym>/edit", methods=["GET", "POST"])
@roles(*EVERYONE)
def edit_client(pseudonym: str):
    """Change a client's details."""
    client = load_client_or_404(pseudonym, current_user)
    form = ClientForm(obj=client)
    if form.validate_on_submit():
        try:
            update_client(client, form.client_data(), by=current_user)
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Client saved."), "success")
            return redirect(url_for("clients.show_client", pseudonym=client.pseudonym))
    return render_template("clients/form.html", form=form, client=client), form_status(form)


@bp.app_template_filter("country")
def country_filter(code: str) -> str:
    """A citizenship code as the country's name in the interface language, with the code."""
    return f"{country_name(code, str(get_locale() or 'en'))} ({code})"
