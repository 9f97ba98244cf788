"""Accounts: creating and changing users, checking passwords, throttling wrong ones.
Each write takes the acting user and is audited; the caller commits."""

import hashlib
import hmac
import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from app import models_base
from app.audit.services import acting, record_event
from app.auth.models import (
    ACCOUNT_ALERT,
    ADDRESS_ALERT,
    LOCALES,
    ROLES,
    LoginFailure,
    SecurityAlert,
    User,
)
from app.auth.passwords import PASSWORD_MAX, PASSWORD_MIN, password_problem
from app.auth.queries import (
    account_failures_since,
    address_failures,
    open_alert_for,
    pair_failures,
    user_by_email,
)
from app.auth.sessions import end_sessions
from app.errors import Busy, RuleViolation
from app.extensions import db
from app.proxy import parse_address

__all__ = ["PASSWORD_MAX", "PASSWORD_MIN", "password_problem"]  # judged in app/auth/passwords.py

# Wrong passwords from one address for one account: this many within the window lock that
# account from that address (the owner elsewhere still gets in) ...
MAX_FAILURES, FAILURE_WINDOW, LOCKOUT = 5, timedelta(minutes=15), timedelta(minutes=15)
# ... and this many from one address, whatever the accounts, lock the address out.
MAX_ADDRESS_FAILURES = 20
# This many for one account from any addresses within the window alert the admins, locked or not.
ACCOUNT_ALERT_FAILURES = 10
FAILURES_KEPT = timedelta(days=1)


class AccountLocked(Exception):
    """Too many wrong passwords for this email from this address: no password is checked for
    it from there until the lock ends."""


class AddressLocked(AccountLocked):
    """Too many wrong passwords from this address, over any accounts: no password is checked
    from it until the lock ends."""


def locked_message(lock: AccountLocked) -> str:
    """What a person is told while their password cannot be checked."""
    if isinstance(lock, AddressLocked):
        return _(
            "Too many failed attempts from your network: passwords from it are not checked for "
            "15 minutes. Try again later, or ask your coordinator."
        )
    return _(
        "Too many failed attempts: this account is locked for 15 minutes. "
        "Try again later, or ask your coordinator."
    )


class WrongPassword(RuleViolation):
    """The password asked again was not the account's (counted with the login failures)."""


def _hasher() -> PasswordHasher:
    """argon2id with the configured cost (``ARGON2_PARAMS``; the library's defaults if unset)."""
    return PasswordHasher(**current_app.config.get("ARGON2_PARAMS", {}))


_semaphores: dict[int, threading.BoundedSemaphore] = {}
_semaphores_lock = threading.Lock()


@contextmanager
def hashing_slot() -> Iterator[None]:
    """One of this process's few slots for hashing a password. argon2id takes 64 MiB and a
    processor for a tenth of a second, so a flood of logins would otherwise take the worker's
    memory and every thread: at most ``PASSWORD_HASHING_SLOTS`` run at once, and a request that
    waits longer than ``PASSWORD_HASHING_WAIT`` seconds for one is answered "busy" (``Busy``)
    without hashing anything."""
    size = current_app.config["PASSWORD_HASHING_SLOTS"]
    with _semaphores_lock:
        semaphore = _semaphores.setdefault(size, threading.BoundedSemaphore(size))
    if not semaphore.acquire(timeout=current_app.config["PASSWORD_HASHING_WAIT"]):
        raise Busy("hashing")
    try:
        yield
    finally:
        semaphore.release()


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """Checked against when the email is unknown or locked, so every refusal takes as long.
    (Made in a hashing slot, like every hash.)"""
    params = repr(sorted(current_app.config.get("ARGON2_PARAMS", {}).items()))
    if params not in _DUMMY_HASHES:
        _DUMMY_HASHES[params] = _hasher().hash("not-a-real-password")
    return _DUMMY_HASHES[params]


def _verify(hasher: PasswordHasher, password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; one argon2 verification whatever the answer (a missing
    hash is checked against the dummy one)."""
    try:
        return hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


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
    password_hash = None
    if password is not None:
        with hashing_slot():
            password_hash = _hasher().hash(password)
    user = User(email=email, role=role, password_hash=password_hash)
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


def _end_access(user: User, reason: str, except_row: int | None = None) -> int:
    """End every way into the account: its sessions (but ``except_row``) and its calendar
    link. Returns how many sessions ended."""
    user.calendar_token_hash = None
    db.session.flush()
    return end_sessions(user.id, reason, except_row=except_row)


def set_enabled(user: User, enabled: bool, by: User) -> User:
    """Disable (every session and the calendar link end) or re-enable an account. Accounts are
    never deleted, so the history of what they did stays readable."""
    acting(by)
    if user.id == by.id and not enabled:
        raise RuleViolation(_("You cannot disable your own account."))
    user.is_enabled = enabled
    db.session.flush()
    if not enabled:
        _end_access(user, "disabled")
    return user


def change_password(
    user: User, current: str, new: str, by: User, keep_session: int | None, address: str = ""
) -> None:
    """The user's own password change: the current one is asked again (counted with the login
    failures from ``address``, see ``confirm_password``); every other session of theirs, and
    their calendar link, end.

    Raises WrongPassword (the caller commits: the failure is kept), AccountLocked, or
    RuleViolation for a weak new password."""
    acting(by)
    if not confirm_password(user, current, "password", address):
        raise WrongPassword(_("That is not your current password."), field="current")
    if problem := password_problem(new, user.email):
        raise RuleViolation(problem, field="password")
    with hashing_slot():
        user.password_hash = _hasher().hash(new)
    db.session.flush()
    _end_access(user, "password", except_row=keep_session)


def end_user_sessions(user: User, by: User) -> int:
    """An admin ends every session of a user, and their calendar link (e.g. a lost phone)."""
    acting(by)
    return _end_access(user, "revoked")


def _keyed(purpose: str, value: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def account_key(email: str) -> str:
    """A keyed hash of the email typed: throttling works for unknown emails too without
    keeping them."""
    return _keyed("account", _normalise_email(email))


def address_key(address: str) -> str:
    """A keyed hash of the client's address (``request.remote_addr``: the client behind a
    trusted proxy, app/proxy.py). An IPv6 client is counted by its /64 network, since anyone
    given one address there has the rest of it too."""
    parsed = parse_address(address)
    if parsed is None:
        text = address
    elif parsed.version == 6:
        text = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    else:
        text = str(parsed)
    return _keyed("address", text)


@dataclass(frozen=True)
class _Attempt:
    """A password check: whose account it was for, where it came from (keyed hashes)."""

    account: str
    address: str

    @classmethod
    def of(cls, email: str, address: str) -> "_Attempt":
        return cls(account_key(email), address_key(address))


def _locked_by(failures: list[datetime], limit: int, now: datetime) -> bool:
    """``failures`` (newest first, at most ``limit``) lock for LOCKOUT once ``limit`` of them
    fall within FAILURE_WINDOW."""
    return (
        len(failures) == limit
        and failures[0] - failures[-1] <= FAILURE_WINDOW
        and now < failures[0] + LOCKOUT
    )


def _address_locked(attempt: _Attempt, now: datetime) -> bool:
    failures = address_failures(attempt.address, MAX_ADDRESS_FAILURES)
    return _locked_by(failures, MAX_ADDRESS_FAILURES, now)


def _pair_locked(attempt: _Attempt, now: datetime) -> bool:
    failures = pair_failures(attempt.account, attempt.address, MAX_FAILURES)
    return _locked_by(failures, MAX_FAILURES, now)


def _serialise_attempts(attempt: _Attempt) -> None:
    """On PostgreSQL, one password check per account and per address at a time (always in
    that order, so two checks never wait on each other), so parallel guesses are all counted.
    (SQLite's BEGIN IMMEDIATE already serialises them.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        for key in (attempt.account, attempt.address):
            db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(int(key[:15], 16))))


def _refuse_while_locked(attempt: _Attempt, now: datetime) -> None:
    """Raise AddressLocked or AccountLocked if the attempt may not be checked now — after one
    password hash, so a locked refusal takes as long as any other."""
    locked = (
        AddressLocked
        if _address_locked(attempt, now)
        else AccountLocked
        if _pair_locked(attempt, now)
        else None
    )
    if locked is not None:
        with hashing_slot():
            _verify(_hasher(), None, "not-a-real-password")
        raise locked


def _raise_alert(kind: str, user: User | None, address: str, now: datetime) -> None:
    """Tell the admins: a new alert, or one more on the alert still open for the same account
    (or address)."""
    alert = open_alert_for(kind, user.id if user else None, address)
    if alert is None:
        db.session.add(
            SecurityAlert(
                kind=kind,
                user_id=user.id if user else None,
                address_key=address,
                first_at=now,
                last_at=now,
                count=1,
            )
        )
    else:
        alert.count += 1
        alert.last_at, alert.address_key = now, address
    db.session.flush()


def _count_failure(attempt: _Attempt, now: datetime, user: User | None, step: str) -> None:
    """Keep a wrong password. When it is the one that locks the account from this address, or
    the address, the lock is audited and the admins alerted, and AccountLocked (AddressLocked)
    is raised; the caller commits either way."""
    db.session.add(
        LoginFailure(account_key=attempt.account, address_key=attempt.address, failed_at=now)
    )
    db.session.flush()
    # Not locked before this failure (it would have been refused), so locked now means by it.
    address_locked, pair_locked = _address_locked(attempt, now), _pair_locked(attempt, now)
    source = {"step": [None, step], "address": [None, attempt.address[:8]]}
    if address_locked:
        record_event("locked", "users", {"scope": [None, "address"], **source})
        _raise_alert(ADDRESS_ALERT, None, attempt.address, now)
    if pair_locked and user is not None:
        record_event("locked", "users", {"scope": [None, "account"], **source}, entity_id=user.id)
        _raise_alert(ACCOUNT_ALERT, user, attempt.address, now)
    elif user is not None and (
        account_failures_since(attempt.account, now - FAILURE_WINDOW) == ACCOUNT_ALERT_FAILURES
    ):  # guessed at from many addresses: no address is locked, but the admins should know
        _raise_alert(ACCOUNT_ALERT, user, attempt.address, now)
    if address_locked:
        raise AddressLocked
    if pair_locked:
        raise AccountLocked


def _forget_failures(attempt: _Attempt) -> None:
    """The right password: this address's failures for this account no longer count (those from
    other addresses still do)."""
    db.session.execute(
        sa.delete(LoginFailure).where(
            LoginFailure.account_key == attempt.account,
            LoginFailure.address_key == attempt.address,
        )
    )


def authenticate(email: str, password: str, address: str = "") -> User | None:
    """The enabled user with these credentials, or None after recording the failure.

    Raises AccountLocked while this email is locked from this ``address`` (the client's, as
    the app sees it), AddressLocked while the address is, and either at the failure that locks
    it (the caller commits either way, so the failure is kept); Busy when no hashing slot is
    free (nothing is written). Unknown emails are counted and locked the same way, and every
    refusal costs one password hash, so nobody can tell which emails have accounts. Rehashes
    the password when the hashing parameters have changed since it was set.
    """
    now = models_base.utcnow()
    attempt = _Attempt.of(email, address)
    _serialise_attempts(attempt)
    acting(None)  # a lock is recorded with nobody logged in
    _refuse_while_locked(attempt, now)
    user = user_by_email(email) if len(email) <= 254 else None
    usable = user is not None and user.password_hash is not None and user.is_enabled
    hasher, new_hash = _hasher(), None
    with hashing_slot():
        verified = _verify(hasher, user.password_hash if usable else None, password)
        if verified and hasher.check_needs_rehash(user.password_hash):
            new_hash = hasher.hash(password)
    if not verified:
        _count_failure(attempt, now, user, "login")
        return None
    acting(user)
    _forget_failures(attempt)
    if new_hash is not None:
        user.password_hash = new_hash
    user.last_login_at = now
    return user


def confirm_password(user: User, password: str, step: str, address: str = "") -> bool:
    """Whether ``password`` is the logged-in ``user``'s own, asked again before a sensitive
    ``step`` (``export``: an identified export; ``password``: a password change).

    Counted with the login failures — the same lock, per account and ``address`` — and each
    wrong password is audited (never what was typed). Raises AccountLocked (AddressLocked)
    while locked, even for the right password, and at the failure that locks; Busy when no
    hashing slot is free. The caller commits either way."""
    acting(user)
    now = models_base.utcnow()
    attempt = _Attempt.of(user.email, address)
    _serialise_attempts(attempt)
    try:
        _refuse_while_locked(attempt, now)
    except AccountLocked:
        record_event(
            "refused", "users", {"step": [None, step], "locked": [None, True]}, entity_id=user.id
        )
        raise
    with hashing_slot():
        verified = _verify(_hasher(), user.password_hash, password)
    if verified:
        _forget_failures(attempt)
        return True
    record_event("refused", "users", {"step": [None, step]}, entity_id=user.id)
    _count_failure(attempt, now, user, step)
    return False


def mark_alerts_seen(by: User) -> int:
    """An admin has seen the open security alerts: they leave the banner (and stay listed,
    with who saw them and when). Returns how many."""
    acting(by)
    result = db.session.execute(
        sa.update(SecurityAlert)
        .where(SecurityAlert.seen_at.is_(None))
        .values(seen_at=models_base.utcnow(), seen_by_id=by.id),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def forget_old_failures(now: datetime) -> int:
    """Failures older than a day no longer count for anything: deleted (housekeeping)."""
    result = db.session.execute(
        sa.delete(LoginFailure).where(LoginFailure.failed_at < now - FAILURES_KEPT),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
