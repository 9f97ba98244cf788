from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.identifiers import new_pseudonym
from app.models_base import CreatedAtMixin, UtcDateTime, utcnow

NAME_MAX = 200
TEXT_MAX = 10_000

LANGUAGES = {
    "ru": _l("Russian"),
    "uz": _l("Uzbek"),
    "tg": _l("Tajik"),
    "ky": _l("Kyrgyz"),
    "kk": _l("Kazakh"),
    "tk": _l("Turkmen"),
    "az": _l("Azerbaijani"),
    "hy": _l("Armenian"),
    "en": _l("English"),
    "other": _l("another language"),
}


def fold_name(name: str) -> str:
    """The form of a name that search compares: case and runs of spaces ignored, ё as е."""
    return " ".join(name.casefold().replace("ё", "е").split())


class Client(CreatedAtMixin, db.Model):
    __tablename__ = "clients"
    __audited__ = True
    __audit_skip__ = frozenset({"name_folded"})

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_pseudonym)
    full_name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    name_folded: Mapped[str] = mapped_column(sa.String(NAME_MAX), index=True)
    citizenship: Mapped[str] = mapped_column(sa.String(2))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    messenger: Mapped[str | None] = mapped_column(sa.String(NAME_MAX))
    preferred_language: Mapped[str | None] = mapped_column(sa.String(8))
    born_on: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    cases = relationship("Case", back_populates="client", order_by="Case.opened_on.desc()")

    @property
    def language_label(self) -> str:
        return str(LANGUAGES.get(self.preferred_language, "")) if self.preferred_language else ""

    def __repr__(self) -> str:  # never the name: reprs end up in logs
        return f"<Client {self.pseudonym}>"
