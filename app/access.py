"""Who may use what: the one place that decides it.

Every view declares its access with ``@public`` or ``@roles(...)``; ``enforce_access`` runs
before each request and refuses any view that declared nothing (deny by default). Case and
client pages load their object through the helpers here, so "may this user see it" is written
once.
"""

from collections.abc import Callable

import sqlalchemy as sa
from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from app.auth.models import ADMIN, COORDINATOR, ROLES, VOLUNTEER, User
from app.cases.models import Case
from app.clients.models import Client
from app.extensions import db
from app.identifiers import normalise_code

EVERYONE = (VOLUNTEER, COORDINATOR, ADMIN)
STAFF = (COORDINATOR, ADMIN)


def public(view: Callable) -> Callable:
    """Anyone may use this view, logged in or not."""
    view.access = "public"
    return view


def roles(*allowed: str) -> Callable:
    """Only logged-in users with one of these roles may use the view."""
    if not allowed or set(allowed) - set(ROLES):
        raise ValueError(f"roles() takes some of {tuple(ROLES)}, got {allowed}")

    def decorate(view: Callable) -> Callable:
        view.access = frozenset(allowed)
        return view

    return decorate


def enforce_access():
    """before_request: anonymous users go to the login page; a role not allowed gets 403."""
    if request.endpoint is None:  # no such URL: the 404 handler answers
        return None
    access = getattr(current_app.view_functions[request.endpoint], "access", None)
    if access == "public":
        return None
    if not current_user.is_authenticated:
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    if access is None or current_user.role not in access:
        abort(403)
    return None


def own_cases_clause(user: User):
    """A user's own cases: assigned to them, or created by them and not assigned to anyone."""
    return sa.or_(
        Case.assigned_to_id == user.id,
        sa.and_(Case.assigned_to_id.is_(None), Case.created_by_id == user.id),
    )


def visible_cases_clause(user: User):
    """SPEC's rule: coordinators and admins see every case; a volunteer sees their own."""
    return sa.true() if user.is_coordinator else own_cases_clause(user)


def load_case_or_404(reference: str, user: User) -> Case:
    """The case with this reference if ``user`` may see it; otherwise 404, so nobody can tell a
    case hidden from them from one that does not exist."""
    # As typed (imported references keep their letters), or with look-alikes forgiven.
    candidates = {reference.strip().upper(), normalise_code(reference)}
    case = db.session.execute(
        sa.select(Case).where(Case.reference.in_(candidates), visible_cases_clause(user))
    ).scalar_one_or_none()
    if case is None:
        abort(404)
    return case


def visible_clients_clause(user: User):
    """Coordinators and admins see every client. A volunteer sees a client through the cases:
    the clients of the cases they can see, and a client they added who has no case at all yet
    (so a client whose only case went to someone else is gone from them with the case)."""
    if user.is_coordinator:
        return sa.true()
    return sa.or_(
        Client.id.in_(sa.select(Case.client_id).where(visible_cases_clause(user))),
        sa.and_(
            Client.created_by_id == user.id,
            ~sa.exists().where(Case.client_id == Client.id),
        ),
    )


def load_client_or_404(pseudonym: str, user: User) -> Client:
    """The client with this pseudonym code if ``user`` may see them; otherwise 404."""
    client = db.session.execute(
        sa.select(Client).where(
            Client.pseudonym == normalise_code(pseudonym), visible_clients_clause(user)
        )
    ).scalar_one_or_none()
    if client is None:
        abort(404)
    return client
