"""Reads of users."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.access import EVERYONE
from app.auth.models import LoginFailure, SecurityAlert, User
from app.extensions import db


def has_users() -> bool:
    """Whether any account exists: with none, the first-run page creates the admin."""
    return db.session.execute(sa.select(sa.exists().where(User.id.isnot(None)))).scalar()


def user_by_email(email: str) -> User | None:
    return db.session.execute(
        sa.select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()


def assignable_users() -> list[tuple[int, str]]:
    """(id, email) of the enabled accounts a case can be assigned to, by email."""
    query = (
        sa.select(User.id, User.email)
        .where(User.is_enabled, User.role.in_(EVERYONE))
        .order_by(User.email)
    )
    return [tuple(row) for row in db.session.execute(query)]


def pair_failures(account_key: str, address_key: str, limit: int) -> list:
    """The times of the latest wrong passwords for this account from this address, newest
    first."""
    query = (
        sa.select(LoginFailure.failed_at)
        .where(LoginFailure.account_key == account_key, LoginFailure.address_key == address_key)
        .order_by(LoginFailure.failed_at.desc())
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def address_failures(address_key: str, limit: int) -> list:
    """The times of the latest wrong passwords from this address, for any account, newest
    first."""
    query = (
        sa.select(LoginFailure.failed_at)
        .where(LoginFailure.address_key == address_key)
        .order_by(LoginFailure.failed_at.desc())
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def account_failures_since(account_key: str, since) -> int:
    """How many wrong passwords this account has had since ``since``, from any address."""
    query = sa.select(sa.func.count()).where(
        LoginFailure.account_key == account_key, LoginFailure.failed_at >= since
    )
    return db.session.execute(query).scalar()


def open_alert_for(kind: str, user_id: int | None, address_key: str) -> SecurityAlert | None:
    """The alert of this kind not yet seen by an admin, for this account (an account alert) or
    this address (an address alert)."""
    query = sa.select(SecurityAlert).where(
        SecurityAlert.kind == kind, SecurityAlert.seen_at.is_(None)
    )
    if user_id is not None:
        query = query.where(SecurityAlert.user_id == user_id)
    else:
        query = query.where(
            SecurityAlert.user_id.is_(None), SecurityAlert.address_key == address_key
        )
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def open_alert_count() -> int:
    """How many security alerts no admin has marked seen yet (the banner on admins' pages)."""
    query = sa.select(sa.func.count()).where(SecurityAlert.seen_at.is_(None))
    return db.session.execute(query).scalar()


def recent_alerts(limit: int = 200) -> list[SecurityAlert]:
    """Security alerts, the open ones first, then newest first, with their accounts."""
    query = (
        sa.select(SecurityAlert)
        .options(joinedload(SecurityAlert.user), joinedload(SecurityAlert.seen_by))
        .order_by(SecurityAlert.seen_at.is_not(None), SecurityAlert.last_at.desc())
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def all_users() -> list[User]:
    """Every account, enabled first, then by email."""
    return list(
        db.session.execute(sa.select(User).order_by(User.is_enabled.desc(), User.email)).scalars()
    )
