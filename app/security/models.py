import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class KeyCheck(db.Model):
    """One row that only the right keys open: the app will not start with the wrong ones
    (and so never writes data under a key that cannot read the rest)."""

    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    sealed: Mapped[bytes] = mapped_column(sa.LargeBinary)
    index_digest: Mapped[bytes] = mapped_column(sa.LargeBinary)


class OrganisationKey(db.Model):
    """The organisation's data key, wrapped by the master key (one row): it seals typed text
    that belongs to no client, such as calendar notes (``app.crypto.organisation_key``).
    ``flask keys rotate`` re-wraps it with the clients' keys."""

    __tablename__ = "organisation_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    wrapped: Mapped[bytes] = mapped_column(sa.LargeBinary)


class Setting(db.Model):
    """The organisation's settings an admin keeps (one row)."""

    __tablename__ = "settings"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    # Erase a client's identifying data this many days after their last case closed; None: never.
    retention_days: Mapped[int | None]
    # The calendar library the open deadlines were last counted with (app.cases.workdays);
    # None: never, or counted by a version that kept its own calendar.
    calendar_counted: Mapped[str | None] = mapped_column(sa.String(64))
