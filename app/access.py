"""Who may use which page: the roles, and the one place that decides it.

Every view declares its access with ``@public`` or ``@roles(...)``; ``enforce_access`` runs
before each request and refuses any view that declared nothing (deny by default). This module
sits at the bottom (it knows roles, not records); "may this user see this case or client" is
written once, beside the records: ``app.cases.queries.load_case_or_404`` and
``app.clients.queries.load_client_or_404``.
"""

from collections.abc import Callable

from flask import abort, current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

VOLUNTEER, COORDINATOR, ADMIN = "volunteer", "coordinator", "admin"
ROLES = {VOLUNTEER: _l("volunteer"), COORDINATOR: _l("coordinator"), ADMIN: _l("admin")}
EVERYONE = (VOLUNTEER, COORDINATOR, ADMIN)
# Staff: coordinators and admins. They see every case and client and assign cases
# (``User.is_coordinator`` is this test; the access matrix and the pages use this tuple).
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
