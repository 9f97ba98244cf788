"""Reads of users."""

import sqlalchemy as sa

from app.auth.models import ADMIN, COORDINATOR, VOLUNTEER, User
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
