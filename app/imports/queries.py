"""What an import needs to know from the database before it plans: who, which clients, which
cases the file's rows name. Each takes the values a file holds, any number of them."""

from collections.abc import Iterable, Iterator
from types import SimpleNamespace

import sqlalchemy as sa

from app.auth.models import User
from app.cases.models import Case
from app.clients.models import Client, ClientIndex
from app.crypto import Opener, seal_context
from app.deadlines.models import next_open_deadline
from app.extensions import db

CHUNK = 2000  # values per IN (...): well under every database's limit
# What a file's row is compared against, besides the client.
CASE_VALUES = (
    "case_type",
    "opened_on",
    "region",
    "summary",
    "outcome",
    "closed_on",
    "assigned_to_id",
    "next_deadline",
)


def _chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def user_ids_by_email(emails: set[str]) -> dict[str, int]:
    """The id of each user with one of these emails."""
    found = {}
    for chunk in _chunks(emails):
        query = sa.select(User.email, User.id).where(User.email.in_(chunk))
        found.update(db.session.execute(query).tuples().all())
    return found


def clients_by_pseudonym(codes: set[str]) -> dict[str, sa.Row]:
    """The client (id, pseudonym, citizenship) of each of these pseudonym codes."""
    found = {}
    for chunk in _chunks(codes):
        query = sa.select(Client.pseudonym, Client.id, Client.citizenship).where(
            Client.pseudonym.in_(chunk)
        )
        found.update((row.pseudonym, row) for row in db.session.execute(query))
    return found


def clients_by_name_digest(digests: set[bytes]) -> dict[tuple[bytes, str], int]:
    """For each (keyed hash of a full name, citizenship) among clients with one of these
    name digests, the client entered first (the lowest id): several may share a name."""
    found: dict[tuple, int] = {}
    for chunk in _chunks(digests):
        query = (
            sa.select(ClientIndex.digest, Client.citizenship, Client.id)
            .join(Client, Client.id == ClientIndex.client_id)
            .where(ClientIndex.kind == "fullname", ClientIndex.digest.in_(chunk))
        )
        for digest, citizenship, client_id in db.session.execute(query):
            key = (digest, citizenship)
            found[key] = min(found.get(key, client_id), client_id)
    return found


def cases_by_reference(references: set[str]) -> dict[str, SimpleNamespace]:
    """The cases these references name, with what a row is compared against (``CASE_VALUES``,
    the summary opened; the earliest open deadline; the client's name as its keyed hash)."""
    next_deadline = next_open_deadline(Case.id).label("next_deadline")
    name = sa.orm.aliased(ClientIndex)
    columns = [getattr(Case, n) for n in CASE_VALUES if n not in ("next_deadline", "summary")]
    found, opener = {}, Opener()
    for chunk in _chunks(references):
        query = (
            sa.select(
                Case.id,
                Case.reference,
                Case.client_id,
                *columns,
                next_deadline,
                Case._summary,
                Client.pseudonym,
                Client.data_key,
                Client.citizenship,
                name.digest.label("name_digest"),
            )
            .join(Client, Client.id == Case.client_id)
            .outerjoin(name, sa.and_(name.client_id == Client.id, name.kind == "fullname"))
            .where(Case.reference.in_(chunk))
        )
        for row in db.session.execute(query):
            values = row._asdict()
            values["summary"] = opener.text(
                row.data_key,
                row.pseudonym,
                row._summary,
                seal_context("cases", "summary", row.reference),
            )
            found[row.reference] = SimpleNamespace(**values)
    return found
