"""Accounts: creating and changing users, checking passwords, throttling logins.
Each write takes the acting user and is audited; the caller commits."""

import hashlib
import hmac
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from app import models_base
from app.audit.services import acting
from app.auth.models import LOCALES, ROLES, LoginFailure, User
from app.auth.queries import recent_failures, user_by_email
from app.auth.sessions import end_sessions
from app.errors import RuleViolation
from app.extensions import db

PASSWORD_MIN, PASSWORD_MAX = 12, 128
MIN_STRENGTH = 3  # zxcvbn's score, 0–4: "safely unguessable" and up
MAX_FAILURES, FAILURE_WINDOW, LOCKOUT = 5, timedelta(minutes=15), timedelta(minutes=15)


def N_(text: str) -> str:
    """Marks a string for the catalogue; it is translated where it is shown."""
    return text


# zxcvbn explains a weak password in English, in these sentences; they are in our catalogue.
ZXCVBN_SENTENCES = frozenset(
    {
        N_("A word by itself is easy to guess."),
        N_("Add another word or two. Uncommon words are better."),
        N_("All-uppercase is almost as easy to guess as all-lowercase."),
        N_("Avoid dates and years that are associated with you."),
        N_("Avoid recent years."),
        N_("Avoid repeated words and characters."),
        N_("Avoid sequences."),
        N_("Avoid years that are associated with you."),
        N_("Capitalization doesn't help very much."),
        N_("Common names and surnames are easy to guess."),
        N_("Dates are often easy to guess."),
        N_("Names and surnames by themselves are easy to guess."),
        N_("No need for symbols, digits, or uppercase letters."),
        N_("Predictable substitutions like '@' instead of 'a' don't help very much."),
        N_("Recent years are easy to guess."),
        N_('Repeats like "aaa" are easy to guess.'),
        N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
        N_("Reversed words aren't much harder to guess."),
        N_('Sequences like "abc" or "6543" are easy to guess.'),
        N_("Short keyboard patterns are easy to guess."),
        N_("Straight rows of keys are easy to guess."),
        N_("This is a top-10 common password."),
        N_("This is a top-100 common password."),
        N_("This is a very common password."),
        N_("This is similar to a commonly used password."),
        N_("Use a few words, avoid common phrases."),
        N_("Use a longer keyboard pattern with more turns."),
    }
)
MORE_WORDS = "Add another word or two. Uncommon words are better."


class AccountLocked(Exception):
    """Too many failed logins for this email: no password is checked until the lock ends."""


def _hasher() -> PasswordHasher:
    """argon2id with the configured cost (``ARGON2_PARAMS``; the library's defaults if unset)."""
    return PasswordHasher(**current_app.config.get("ARGON2_PARAMS", {}))


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """Checked against when the email is unknown or locked, so every refusal takes as long."""
    params = repr(sorted(current_app.config.get("ARGON2_PARAMS", {}).items()))
    if params not in _DUMMY_HASHES:
        _DUMMY_HASHES[params] = _hasher().hash("not-a-real-password")
    return _DUMMY_HASHES[params]


def password_problem(password: str, email: str = "") -> str | None:
    """Why this password may not be used, or None."""
    if len(password) < PASSWORD_MIN:
        return ngettext(
            "Use at least %(num)d character.", "Use at least %(num)d characters.", PASSWORD_MIN
        )
    if len(password) > PASSWORD_MAX:
        return ngettext(
            "Use at most %(num)d character.", "Use at most %(num)d characters.", PASSWORD_MAX
        )
    # Imported here: its word lists are 12 MB that a web worker needs only when a password is
    # set. It is slow on very long input and only needs the start to judge it.
    from zxcvbn import zxcvbn

    verdict = zxcvbn(password[:64], user_inputs=[email, *email.split("@"), "huquq"])
    if verdict["score"] < MIN_STRENGTH:
        feedback = verdict["feedback"]
        reason = _zxcvbn_text(feedback.get("warning")) or _("This password is easy to guess.")
        suggestions = feedback.get("suggestions") or [
            "Add another word or two. Uncommon words are better."
        ]
        hint = " ".join(_zxcvbn_text(text) for text in suggestions)
        return f"{reason} {hint}".strip()
    return None


def _zxcvbn_text(text: str | None) -> str:
    return (_(text) if text in ZXCVBN_SENTENCES else text) if text else ""


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, role: str, password: str | None, by: User | None) -> User:
    acting(by)
    email = _normalise_email(email)
    if role not in ROLES:
        raise RuleViolation(_("Unknown role."), field="role")
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise RuleViolation(_("Enter a valid email address."), field="email")
    if user_by_email(email) is not None:
        raise RuleViolation(_("An account with this email already exists."), field="email")
    if password is not None and (problem := password_problem(password, email)):
        raise RuleViolation(problem, field="password")
    user = User(
        email=email, role=role, password_hash=_hasher().hash(password) if password else None
    )
    db.session.add(user)
    db.session.flush()
    return user


def set_locale(user: User, locale: str, by: User) -> User:
    """The interface language a user reads (not audited: it changes nothing of the cases)."""
    acting(by)
    if locale not in LOCALES:
        raise RuleViolation(_("Unknown language."), field="locale")
    user.locale = locale
    db.session.flush()
    return user


def change_role(user: User, role: str, by: User) -> User:
    acting(by)
    if role not in ROLES:
        raise RuleViolation(_("Unknown role."), field="role")
    if user.id == by.id and role != user.role:
        raise RuleViolation(_("You cannot change your own role."), field="role")
    user.role = role
    db.session.flush()
    return user


def set_enabled(user: User, enabled: bool, by: User) -> User:
    """Disable (every session ends) or re-enable an account. Accounts are never deleted, so
    the history of what they did stays readable."""
    acting(by)
    if user.id == by.id and not enabled:
        raise RuleViolation(_("You cannot disable your own account."))
    user.is_enabled = enabled
    db.session.flush()
    if not enabled:
        end_sessions(user.id, "disabled")
    return user


def change_password(user: User, current: str, new: str, by: User, keep_session: int | None) -> None:
    """The user's own password change: the current one is asked again; every other session
    of theirs ends."""
    acting(by)
    if not password_matches(user, current):
        raise RuleViolation(_("That is not your current password."), field="current")
    if problem := password_problem(new, user.email):
        raise RuleViolation(problem, field="password")
    user.password_hash = _hasher().hash(new)
    db.session.flush()
    end_sessions(user.id, "password", except_row=keep_session)


def password_matches(user: User, password: str) -> bool:
    """Whether this is the user's password (to confirm a sensitive step, e.g. an identified
    export)."""
    try:
        return _hasher().verify(user.password_hash or _dummy_hash(), password) and bool(
            user.password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def end_user_sessions(user: User, by: User) -> int:
    """An admin ends every session of a user (e.g. a lost phone)."""
    acting(by)
    return end_sessions(user.id, "revoked")


def account_key(email: str) -> str:
    """A keyed hash of the email typed: throttling works for unknown emails too without
    keeping them."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, _normalise_email(email).encode(), hashlib.sha256).hexdigest()


def _locked(key: str, now) -> bool:
    """Locked for LOCKOUT after MAX_FAILURES failures within FAILURE_WINDOW."""
    failures = recent_failures(key, MAX_FAILURES)
    return (
        len(failures) == MAX_FAILURES
        and failures[0] - failures[-1] <= FAILURE_WINDOW
        and now < failures[0] + LOCKOUT
    )


def _serialise_attempts(key: str) -> None:
    """On PostgreSQL, one login attempt per account at a time, so parallel guesses are all
    counted. (SQLite's BEGIN IMMEDIATE already serialises them.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(int(key[:15], 16))))


def authenticate(email: str, password: str) -> User | None:
    """The enabled user with these credentials, or None after recording the failure.

    Raises AccountLocked while the email is locked, and at the failure that locks it (the
    caller commits either way, so the failure is kept). Unknown emails are counted and locked the
    same way, and every refusal costs one password hash, so nobody can tell which emails have
    accounts. Rehashes the password when the hashing parameters have changed since it was set.
    """
    now = models_base.utcnow()
    key = account_key(email)
    _serialise_attempts(key)
    hasher = _hasher()
    if _locked(key, now):
        hasher.verify(_dummy_hash(), "not-a-real-password")
        raise AccountLocked
    user = user_by_email(email) if len(email) <= 254 else None
    usable = user is not None and user.password_hash is not None and user.is_enabled
    try:
        hasher.verify(user.password_hash if usable else _dummy_hash(), password)
        verified = usable
    except (VerificationError, InvalidHashError):
        verified = False
    if not verified:
        db.session.add(LoginFailure(account_key=key, failed_at=now))
        db.session.execute(
            sa.delete(LoginFailure).where(LoginFailure.failed_at < now - timedelta(days=1))
        )
        db.session.flush()
        if _locked(key, now):  # this failure was the last one allowed
            raise AccountLocked
        return None
    acting(user)
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.account_key == key))
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = now
    return user
