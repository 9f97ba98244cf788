"""What the factory hangs around every request for accounts: the interface language, and the
hashing share that answers a password flood "busy" before its form is read."""

from flask import has_request_context, request, session
from flask_login import current_user

from app.auth import hashing
from app.auth.models import LOCALES
from app.auth.services import address_key
from app.errors import Busy

# The views that check a password; their POSTs are counted per client address.
PASSWORD_VIEWS = frozenset({"auth.login", "auth.password", "exports.identified_csv"})


def refuse_beyond_hashing_share() -> None:
    """before_request (ahead of the CSRF check): a password POST from an address that already
    holds its share of this worker's hashing slots is answered "busy" at once, before its form
    is read, so that a flood's surplus costs the worker as little as it can."""
    if (
        request.method == "POST"
        and request.endpoint in PASSWORD_VIEWS
        and hashing.share_taken(address_key(request.remote_addr))
    ):
        raise Busy("hashing")


def select_locale() -> str:
    """The user's choice, else the visit's choice, else the browser's, else English (also
    for the command line, which its operator reads)."""
    if not has_request_context():
        return "en"
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    if session.get("locale") in LOCALES:
        return session["locale"]
    return request.accept_languages.best_match(list(LOCALES)) or "en"
