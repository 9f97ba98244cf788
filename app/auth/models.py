from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.access import ADMIN, ROLES, STAFF
from app.extensions import db
from app.models_base import CreatedAtMixin, UtcDateTime, check_in

# Interface languages, each named in itself (so anyone can find their own).
LOCALES = {"ru": "Русский", "en": "English"}


class User(UserMixin, CreatedAtMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(check_in("role", ROLES), name="role"),)
    __audited__ = True
    __audit_redact__ = frozenset({"password_hash", "calendar_token_hash"})
    __audit_skip__ = frozenset({"last_login_at", "locale"})

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    # None: the account cannot log in (e.g. demo users).
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The interface language the user chose (None: the browser's).
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    # The secret of the user's calendar link, hashed: the link itself is shown once.
    calendar_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled

    @property
    def is_coordinator(self) -> bool:
        """Staff (coordinators and admins): they see every case."""
        return self.role in STAFF

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def role_label(self) -> str:
        return str(ROLES[self.role])

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class UserSession(db.Model):
    """A server-side login session. The browser's cookie holds only a random token; the table
    keeps its SHA-256, so a copy of the database cannot be replayed as a live session."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    data: Mapped[str] = mapped_column(sa.Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_reason: Mapped[str | None] = mapped_column(sa.String(16))


class LoginFailure(db.Model):
    """A wrong password — at login, or when a password is asked again (an identified export, a
    password change) — keyed by a keyed hash of the email typed (known or not) and one of the
    client's address, so throttling holds across workers and restarts without keeping what
    strangers typed or where they came from."""

    __tablename__ = "login_failures"
    __table_args__ = (
        sa.Index(None, "account_key", "address_key", "failed_at"),
        sa.Index(None, "address_key", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(sa.String(64))
    # None for failures recorded before addresses were counted (they expire within a day).
    address_key: Mapped[str | None] = mapped_column(sa.String(64))
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime)


ACCOUNT_ALERT, ADDRESS_ALERT = "account", "address"
ALERT_KINDS = {
    ACCOUNT_ALERT: _l("an account is being locked"),
    ADDRESS_ALERT: _l("one address is trying many accounts"),
}


class SecurityAlert(db.Model):
    """Someone is guessing passwords: an account locked after wrong passwords, or one address
    locked out after trying many accounts. Shown to every admin until one of them marks it
    seen; repeats gather on the open alert (``count``, ``last_at``) rather than adding rows."""

    __tablename__ = "security_alerts"
    __table_args__ = (sa.CheckConstraint(check_in("kind", ALERT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    # The account being locked (None for an address alert).
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # The keyed hash of the address the wrong passwords came from (the latest one).
    address_key: Mapped[str] = mapped_column(sa.String(64))
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)
    count: Mapped[int] = mapped_column(default=1)
    seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    seen_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user = relationship("User", foreign_keys=[user_id])
    seen_by = relationship("User", foreign_keys=[seen_by_id])

    @property
    def kind_label(self) -> str:
        return str(ALERT_KINDS[self.kind])

    @property
    def source(self) -> str:
        """The address as admins see it: a short tag of its keyed hash, never the address."""
        return self.address_key[:8]
