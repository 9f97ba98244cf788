from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.crypto import Sealed, new_data_key, seal_context, unwrap, wrap
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


class Client(CreatedAtMixin, db.Model):
    """A person who asked for help. Everything that identifies them is sealed with their own
    data key (see ``app.crypto``); search goes through ``ClientIndex``."""

    __tablename__ = "clients"
    __audited__ = True
    __audit_skip__ = frozenset({"data_key"})  # a key, not a fact about the person

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(sa.String(16), unique=True)
    # The client's data key, wrapped by the master key; None once their data was erased.
    data_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    citizenship: Mapped[str] = mapped_column(sa.String(2))
    preferred_language: Mapped[str | None] = mapped_column(sa.String(8))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    erased_on: Mapped[date | None]

    _full_name: Mapped[bytes | None] = mapped_column("full_name", sa.LargeBinary)
    _phone: Mapped[bytes | None] = mapped_column("phone", sa.LargeBinary)
    _messenger: Mapped[bytes | None] = mapped_column("messenger", sa.LargeBinary)
    _document_number: Mapped[bytes | None] = mapped_column("document_number", sa.LargeBinary)
    _born_on: Mapped[bytes | None] = mapped_column("born_on", sa.LargeBinary)
    _notes: Mapped[bytes | None] = mapped_column("notes", sa.LargeBinary)
    _safe_contact: Mapped[bytes | None] = mapped_column("safe_contact", sa.LargeBinary)

    full_name = Sealed("_full_name")
    phone = Sealed("_phone")
    messenger = Sealed("_messenger")
    document_number = Sealed("_document_number")
    born_on = Sealed("_born_on", kind=date)
    notes = Sealed("_notes")
    safe_contact = Sealed("_safe_contact")

    cases = relationship("Case", back_populates="client", order_by="Case.opened_on.desc()")

    def __init__(self, **fields) -> None:
        """A new client gets a pseudonym code and a data key before anything is sealed."""
        pseudonym = fields.pop("pseudonym", None) or new_pseudonym()
        super().__init__(pseudonym=pseudonym)
        self._data_key = new_data_key()
        self.data_key = wrap(self._data_key, self.seal_context("data_key"))
        for name, value in fields.items():
            setattr(self, name, value)

    def sealing_key(self) -> bytes | None:
        if self.data_key is None:
            return None
        if getattr(self, "_data_key", None) is None:
            self._data_key = unwrap(self.data_key, self.seal_context("data_key"))
        return self._data_key

    def seal_context(self, name: str) -> str:
        return seal_context("clients", name, self.pseudonym)

    @property
    def is_erased(self) -> bool:
        return self.erased_on is not None

    @property
    def shown_name(self) -> str:
        """The name, or a mark that it was erased."""
        return self.full_name if not self.is_erased else str(_l("(name erased)"))

    @property
    def language_label(self) -> str:
        return str(LANGUAGES.get(self.preferred_language, "")) if self.preferred_language else ""

    def __repr__(self) -> str:  # never the name: reprs end up in logs
        return f"<Client {self.pseudonym}>"


# What a possible duplicate shares with the client already there (the index's kinds).
MATCH_KINDS = {"name": _l("name"), "phone": _l("phone"), "document": _l("document number")}


class PossibleDuplicate(CreatedAtMixin, db.Model):
    """A client someone added who may be a person the organisation already has, on a case that
    someone could not see: for a coordinator to check. Whoever added them is not told (that
    would answer whom the organisation helps), and their intake went through."""

    __tablename__ = "possible_duplicates"
    __audited__ = True
    __table_args__ = (sa.CheckConstraint("client_id <> other_id", name="two"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    other_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    matched: Mapped[str] = mapped_column(sa.String(32))  # MATCH_KINDS codes, space separated
    found_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    client = relationship("Client", foreign_keys=[client_id])
    other = relationship("Client", foreign_keys=[other_id])
    found_by = relationship("User", foreign_keys=[found_by_id])

    def other_side(self, client: "Client") -> "Client":
        """The client of the pair that is not ``client``."""
        return self.other if self.client_id == client.id else self.client

    @property
    def matched_labels(self) -> str:
        return ", ".join(str(MATCH_KINDS[code]) for code in self.matched.split())


class ClientIndex(db.Model):
    """Keyed hashes of a client's normalised name words, full name, phone and document number:
    exact search and duplicate finding without the plaintext (see ``app.clients.matching``)."""

    __tablename__ = "client_index"
    __table_args__ = (sa.Index(None, "digest", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    digest: Mapped[bytes] = mapped_column(sa.LargeBinary(16))
