"""Reads of users."""

import sqlalchemy as sa

from app.auth.models import ADMIN, COORDINATOR, VOLUNTEER, LoginFailure, User
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
        .where(User.is_enabled, User.role.in_((VOLUNTEER, COORDINATOR, ADMIN)))
        .order_by(User.email)
    )
    return [tuple(row) for row in db.session.execute(query)]


def recent_failures(account_key: str, limit: int) -> list:
    """The times of the latest failed logins for this account key, newest first."""
    query = (
        sa.select(LoginFailure.failed_at)
        .where(LoginFailure.account_key == account_key)
        .order_by(LoginFailure.failed_at.desc())
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def all_users() -> list[User]:
    """Every account, enabled first, then by email."""
    return list(
        db.session.execute(sa.select(User).order_by(User.is_enabled.desc(), User.email)).scalars()
    )
