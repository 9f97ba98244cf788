from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import CreatedAtMixin, UtcDateTime, check_in

VOLUNTEER, COORDINATOR, ADMIN = "volunteer", "coordinator", "admin"
ROLES = {VOLUNTEER: _l("volunteer"), COORDINATOR: _l("coordinator"), ADMIN: _l("admin")}


class User(UserMixin, CreatedAtMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(check_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    # None: the account cannot log in (e.g. demo users).
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.is_enabled

    @property
    def is_coordinator(self) -> bool:
        """Coordinators and admins: they see every case."""
        return self.role in (COORDINATOR, ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def role_label(self) -> str:
        return str(ROLES[self.role])

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
