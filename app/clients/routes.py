from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.access import EVERYONE, STAFF, load_client_or_404, roles
from app.audit.queries import entity_history, shown_changes
from app.clients.countries import country_name
from app.clients.forms import ClientForm, ClientSearchForm
from app.clients.models import PossibleDuplicate
from app.clients.queries import (
    cases_of_client,
    clients_matching,
    open_possible_duplicates,
    possible_duplicates_of,
    recent_clients,
)
from app.clients.services import (
    check_duplicates,
    create_client,
    mark_duplicate_checked,
    update_client,
)
from app.extensions import db
from app.forms_base import BaseForm, form_status

bp = Blueprint("clients", __name__, url_prefix="/clients")


@bp.route("")
@roles(*EVERYONE)
def list_clients():
    """The most recently added clients, and the name search."""
    return render_template(
        "clients/list.html",
        form=ClientSearchForm(),
        clients=recent_clients(current_user),
        searched=False,
    )


@bp.route("/search", methods=["POST"])
@roles(*EVERYONE)
def search_clients():
    """Find clients by name (a POST, so the name stays out of URLs and logs)."""
    form = ClientSearchForm()
    if not form.validate_on_submit():
        return render_template("clients/list.html", form=form, clients=[], searched=False), 422
    clients = clients_matching(form.q.data, current_user)
    return render_template("clients/list.html", form=form, clients=clients, searched=True)


@bp.route("/new", methods=["GET", "POST"])
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
            client = create_client(
                form.client_data(), by=current_user, possible_duplicates=check.to_flag
            )
            db.session.commit()
            flash(_("Client added."), "success")
            return redirect(url_for("clients.show_client", pseudonym=client.pseudonym))
    return render_template("clients/form.html", form=form, client=None, duplicates=duplicates), (
        422 if duplicates else form_status(form)
    )


@bp.route("/duplicates")
@roles(*STAFF)
def list_duplicates():
    """Clients added who may be someone the organisation already has, for a coordinator."""
    return render_template(
        "clients/duplicates.html", flags=open_possible_duplicates(), form=BaseForm()
    )


@bp.route("/duplicates/<int:flag_id>/checked", methods=["POST"])
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


@bp.route("/<pseudonym>")
@roles(*EVERYONE)
def show_client(pseudonym: str):
    """One client and the cases of theirs the user may see."""
    client = load_client_or_404(pseudonym, current_user)
    cases = cases_of_client(client, current_user)
    key = client.sealing_key()
    history = [
        (e, shown_changes(e, key, client.pseudonym)) for e in entity_history("clients", client.id)
    ]
    duplicates = possible_duplicates_of(client) if current_user.is_coordinator else []
    return render_template(
        "clients/detail.html", client=client, cases=cases, history=history, duplicates=duplicates
    )


@bp.route("/<pseudonym>/edit", methods=["GET", "POST"])
@roles(*EVERYONE)
def edit_client(pseudonym: str):
    """Change a client's details."""
    client = load_client_or_404(pseudonym, current_user)
    form = ClientForm(obj=client)
    if form.validate_on_submit():
        update_client(client, form.client_data(), by=current_user)
        db.session.commit()
        flash(_("Client saved."), "success")
        return redirect(url_for("clients.show_client", pseudonym=client.pseudonym))
    return render_template(
        "clients/form.html", form=form, client=client
    ), 200 if not form.errors else 422


@bp.app_template_filter("country")
def country_filter(code: str) -> str:
    """A citizenship code as the country's name in the interface language, with the code."""
    return f"{country_name(code, str(get_locale() or 'en'))} ({code})"
