"""Accounts: creating users and checking passwords. The caller commits."""

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from app.auth.models import ROLES, User
from app.auth.queries import user_by_email
from app.errors import RuleViolation
from app.extensions import db
from app.models_base import utcnow

PASSWORD_MIN, PASSWORD_MAX = 12, 128


def _hasher() -> PasswordHasher:
    """argon2id with the configured cost (``ARGON2_PARAMS``; the library's defaults if unset)."""
    return PasswordHasher(**current_app.config.get("ARGON2_PARAMS", {}))


def _dummy_hash() -> str:
    """Checked against when the email is unknown, so that answer takes as long as a wrong one."""
    params = repr(sorted(current_app.config.get("ARGON2_PARAMS", {}).items()))
    if params not in _DUMMY_HASHES:
        _DUMMY_HASHES[params] = _hasher().hash("not-a-real-password")
    return _DUMMY_HASHES[params]


_DUMMY_HASHES: dict[str, str] = {}


def password_problem(password: str) -> str | None:
    """Why this password may not be used, or None."""
    if len(password) < PASSWORD_MIN:
        return _("Use at least %(n)d characters.", n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return _("Use at most %(n)d characters.", n=PASSWORD_MAX)
    return None


def create_user(email: str, role: str, password: str | None, by: User | None) -> User:
    email = email.strip().lower()
    if role not in ROLES:
        raise RuleViolation(_("Unknown role."), field="role")
    if "@" not in email or len(email) > 254:
        raise RuleViolation(_("Enter a valid email address."), field="email")
    if db.session.execute(sa.select(User.id).where(User.email == email)).first():
        raise RuleViolation(_("An account with this email already exists."), field="email")
    if password is not None and (problem := password_problem(password)):
        raise RuleViolation(problem, field="password")
    user = User(
        email=email, role=role, password_hash=_hasher().hash(password) if password else None
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The enabled user with these credentials, or None. Rehashes the password when the
    hashing parameters have changed since it was set."""
    user = user_by_email(email) if len(email) <= 254 else None
    hasher = _hasher()
    known = user is not None and user.password_hash is not None
    stored = user.password_hash if known else _dummy_hash()
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if not known or not user.is_enabled:
        return None
    if hasher.check_needs_rehash(stored):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    return user
