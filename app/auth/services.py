"""Accounts: creating and changing users, checking passwords, throttling wrong ones.
Each write takes the acting user and is audited; the caller commits."""

import hashlib
import hmac
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app import models_base
from app.audit.services import acting, record_event
from app.auth import hashing
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
from app.errors import RuleViolation
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
    password_hash = hashing.hash_password(password) if password is not None else None
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
    user: User, check: "PasswordCheck", current: str, new: str, by: User, keep_session: int | None
) -> None:
    """The user's own password change, inside a ``password_check`` of their email: the current
    password is asked again (counted, locked and audited as ``confirm_password`` says); every
    other session of theirs, and their calendar link, end. Both hashes run before anything is
    read or written.

    Raises WrongPassword, AccountLocked, or RuleViolation for a weak new password; the caller
    commits in every case (a wrong password is kept)."""
    check.verify(current)
    problem = password_problem(new, check.email) if check.verified else None
    new_hash = hashing.hash_password(new) if check.verified and problem is None else None
    if not confirm_password(user, check, current):
        raise WrongPassword(_("That is not your current password."), field="current")
    if problem:
        raise RuleViolation(problem, field="password")
    acting(by)
    user.password_hash = new_hash
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


def _lock_on(attempt: _Attempt, now: datetime) -> type[AccountLocked] | None:
    """The lock that refuses this attempt now, if any: the address's, else the account's from
    this address."""
    if _locked_by(
        address_failures(attempt.address, MAX_ADDRESS_FAILURES), MAX_ADDRESS_FAILURES, now
    ):
        return AddressLocked
    failures = pair_failures(attempt.account, attempt.address, MAX_FAILURES)
    return AccountLocked if _locked_by(failures, MAX_FAILURES, now) else None


def _serialise_attempts(attempt: _Attempt) -> None:
    """On PostgreSQL, one attempt per account and per address is counted at a time (always in
    that order, so two never wait on each other), so parallel guesses are all counted. (SQLite's
    BEGIN IMMEDIATE already serialises them.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        for key in (attempt.account, attempt.address):
            db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(int(key[:15], 16))))


@dataclass
class PasswordCheck:
    """A password being checked (made by ``password_check``)."""

    attempt: _Attempt
    step: str  # login, export (an identified export), password (a password change)
    email: str
    user_id: int | None
    # The account's hash; None for an unknown, disabled or password-less account, whose
    # check runs against the dummy hash.
    password_hash: str | None
    lock: type[AccountLocked] | None  # the lock that refuses it
    tips: type[AccountLocked] | None = None  # the lock this attempt sets if the password is wrong
    verified: bool | None = None
    new_hash: str | None = None  # the same password under changed hashing costs

    def verify(self, password: str) -> bool:
        """This check's one argon2 verification (against the dummy hash while locked, so a
        refusal takes as long as any other). Nothing is read or written meanwhile."""
        if self.lock is not None:
            hashing.verify(None, "not-a-real-password")
            self.verified = False
            return False
        self.verified = hashing.verify(self.password_hash, password)
        if self.verified and hashing.needs_rehash(self.password_hash):
            self.new_hash = hashing.hash_password(password)
        return self.verified


@contextmanager
def password_check(email: str, address: str, step: str = "login") -> Iterator[PasswordCheck]:
    """Check a password typed for ``email`` from ``address`` (the client's, as the app sees
    it), with no transaction open while argon2 runs: on SQLite a write transaction holds the
    database's one write lock, and a hash takes a tenth of a second and 64 MiB.

    On entering, a hashing slot is taken for the address (app/auth/hashing.py; Busy when none is
    free, or the address has its share: nothing is counted or hashed),
    the locks are read, and unless one refuses it the attempt is counted as a failure until
    proven right, so parallel guesses are all counted. The caller commits, then settles the check
    with ``authenticate``, ``confirm_password`` or ``change_password`` (which hash first, then
    write the outcome) and commits again::

        with password_check(email, address) as check:
            db.session.commit()
            user = authenticate(check, password)
    """
    attempt = _Attempt.of(email, address)
    with hashing.slot(attempt.address):
        now = models_base.utcnow()
        _serialise_attempts(attempt)
        lock = _lock_on(attempt, now)
        user = user_by_email(email) if len(email) <= 254 else None
        usable = user is not None and user.password_hash is not None and user.is_enabled
        check = PasswordCheck(
            attempt=attempt,
            step=step,
            email=_normalise_email(email),
            user_id=user.id if user is not None else None,
            password_hash=user.password_hash if usable else None,
            lock=lock,
        )
        if lock is None:
            db.session.add(
                LoginFailure(
                    account_key=attempt.account, address_key=attempt.address, failed_at=now
                )
            )
            db.session.flush()
            check.tips = _lock_on(attempt, now)  # the failure this would be, if wrong, locks
        yield check


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


def _settle(check: PasswordCheck, user: User | None) -> None:
    """After the hash, in a new transaction the caller commits. A right password clears this
    address's failures for the account, this attempt's among them. A wrong one stays counted;
    when it is the failure that locks (the account from this address, or the address), the lock
    is audited and the admins alerted, and AccountLocked (AddressLocked) is raised. So is the
    lock that refused the check."""
    now = models_base.utcnow()
    if check.lock is not None:
        raise check.lock
    attempt = check.attempt
    if check.verified:
        db.session.execute(
            sa.delete(LoginFailure).where(
                LoginFailure.account_key == attempt.account,
                LoginFailure.address_key == attempt.address,
            )
        )
        return
    source = {"step": [None, check.step], "address": [None, attempt.address[:8]]}
    # Read for unknown emails too: a refusal takes as long whether the account exists or not.
    many = account_failures_since(attempt.account, now - FAILURE_WINDOW) == ACCOUNT_ALERT_FAILURES
    if check.tips is AddressLocked:
        record_event("locked", "users", {"scope": [None, "address"], **source})
        _raise_alert(ADDRESS_ALERT, None, attempt.address, now)
    elif check.tips is AccountLocked and user is not None:
        record_event("locked", "users", {"scope": [None, "account"], **source}, entity_id=user.id)
        _raise_alert(ACCOUNT_ALERT, user, attempt.address, now)
    elif user is not None and many:  # guessed at from many addresses: tell the admins
        _raise_alert(ACCOUNT_ALERT, user, attempt.address, now)
    if check.tips is not None:
        raise check.tips


def authenticate(check: PasswordCheck, password: str) -> User | None:
    """The enabled user whose password this is, or None (a login, inside ``password_check``;
    the caller commits either way, so a failure is kept).

    Raises AccountLocked while the email is locked from this address, AddressLocked while the
    address is, and either at the failure that locks. Unknown emails are counted and locked the
    same way, and every refusal costs one password hash, so nobody can tell which emails have
    accounts. Rehashes the password when the hashing costs have changed since it was set.
    """
    check.verify(password)
    acting(None)  # a lock is recorded with nobody logged in
    user = db.session.get(User, check.user_id) if check.user_id is not None else None
    _settle(check, user)
    if not check.verified:
        return None
    acting(user)
    if check.new_hash is not None:
        user.password_hash = check.new_hash
    user.last_login_at = models_base.utcnow()
    return user


def confirm_password(user: User, check: PasswordCheck, password: str) -> bool:
    """Whether ``password`` is the logged-in ``user``'s own, asked again before a sensitive step
    (inside a ``password_check`` of their email; the caller commits either way).

    Counted with the login failures — the same lock, per account and address — and each wrong
    password is audited (never what was typed). Raises AccountLocked (AddressLocked) while
    locked, even for the right password, and at the failure that locks."""
    if check.verified is None:
        check.verify(password)
    acting(user)
    if not check.verified:
        refused = {"step": [None, check.step]} | ({"locked": [None, True]} if check.lock else {})
        record_event("refused", "users", refused, entity_id=user.id)
    _settle(check, user)
    return bool(check.verified)


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
