from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.access import EVERYONE, load_client_or_404, roles
from app.audit.queries import entity_history, shown_changes
from app.clients.countries import country_name
from app.clients.forms import ClientForm, ClientSearchForm
from app.clients.queries import (
    cases_of_client,
    clients_matching,
    duplicates_to_confirm,
    recent_clients,
)
from app.clients.services import create_client, update_client
from app.extensions import db
from app.forms_base import form_status

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
    """Add a client."""
    form = ClientForm()
    duplicates = None
    if form.validate_on_submit():
        duplicates = duplicates_to_confirm(form, current_user)
        if duplicates is None:
            client = create_client(form.client_data(), by=current_user)
            db.session.commit()
            flash(_("Client added."), "success")
            return redirect(url_for("clients.show_client", pseudonym=client.pseudonym))
    return render_template("clients/form.html", form=form, client=None, duplicates=duplicates), (
        422 if duplicates else form_status(form)
    )


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
    return render_template("clients/detail.html", client=client, cases=cases, history=history)


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
