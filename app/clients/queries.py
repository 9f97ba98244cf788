"""Reads of clients. Names are sealed, so search goes through the keyed-hash index."""

from dataclasses import dataclass

import sqlalchemy as sa

from app.access import visible_cases_clause, visible_clients_clause
from app.auth.models import User
from app.cases.models import Case  # the client's page lists their cases
from app.clients.matching import name_tokens
from app.clients.models import Client, ClientIndex
from app.clients.services import search_digests
from app.crypto import blind
from app.extensions import db

SEARCH_LIMIT = 50


def _ids_with_all(kind: str, digests: list[bytes]):
    """Clients that have every one of these digests of this kind."""
    return (
        sa.select(ClientIndex.client_id)
        .where(ClientIndex.kind == kind, ClientIndex.digest.in_(digests))
        .group_by(ClientIndex.client_id)
        .having(sa.func.count(sa.distinct(ClientIndex.digest)) == len(set(digests)))
    )


def _ids_with_any(kinds: tuple[str, ...], digests: list[bytes]):
    return sa.select(ClientIndex.client_id).where(
        ClientIndex.kind.in_(kinds), ClientIndex.digest.in_(digests)
    )


def clients_matching(text: str, user: User) -> list[Client]:
    """Clients visible to ``user`` whose name has every word typed (in any order and any of the
    usual spellings: Cyrillic or Latin, Kh or X), or whose phone or document number is the one
    typed. Whole words only: the index holds no fragments."""
    words = [blind("name", t) for t in name_tokens(text)]
    numbers = [d for kind, d in search_digests(None, text, text) if kind in ("phone", "doc")]
    matches = []
    if words:
        matches.append(_ids_with_all("name", words))
    if numbers:
        matches.append(_ids_with_any(("phone", "doc"), numbers))
    if not matches:
        return []
    query = (
        sa.select(Client)
        .where(Client.id.in_(sa.union(*matches)), visible_clients_clause(user))
        .order_by(Client.id.desc())
        .limit(SEARCH_LIMIT)
    )
    found = list(db.session.execute(query).scalars())
    return sorted(found, key=lambda c: (c.full_name or "").casefold())


def possible_duplicates(data: dict, user: User, exclude_id: int | None = None) -> tuple[list, int]:
    """Clients who may be the person about to be added: the same name (in any spelling), or the
    same phone or document number. Returns (those ``user`` may see, how many others there are)."""
    pairs = search_digests(data.get("full_name"), data.get("phone"), data.get("document_number"))
    by_kind: dict[str, list[bytes]] = {}
    for kind, digest in pairs:
        by_kind.setdefault(kind, []).append(digest)
    matches = []
    if "fullname" in by_kind:
        matches.append(_ids_with_any(("fullname",), by_kind["fullname"]))
    numbers = by_kind.get("phone", []) + by_kind.get("doc", [])
    if numbers:
        matches.append(_ids_with_any(("phone", "doc"), numbers))
    if not matches:
        return [], 0
    ids = set(db.session.execute(sa.union(*matches)).scalars()) - {exclude_id}
    if not ids:
        return [], 0
    visible = list(
        db.session.execute(
            sa.select(Client).where(Client.id.in_(ids), visible_clients_clause(user))
        ).scalars()
    )
    return visible, len(ids) - len(visible)


@dataclass(frozen=True)
class Duplicates:
    visible: list
    hidden: int


def duplicates_to_confirm(form, user: User) -> Duplicates | None:
    """Clients who may be the person being added, unless the user already said this is someone
    else; None when there is nothing to ask."""
    if form.different_person.data:
        return None
    visible, hidden = possible_duplicates(form.client_data(), user)
    return Duplicates(visible, hidden) if visible or hidden else None


def recent_clients(user: User, limit: int = 20) -> list[Client]:
    """The clients ``user`` may see, most recently added first."""
    query = (
        sa.select(Client)
        .where(visible_clients_clause(user))
        .order_by(Client.created_at.desc(), Client.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def cases_of_client(client: Client, user: User) -> list[Case]:
    """The client's cases that ``user`` may see, newest first."""
    query = (
        sa.select(Case)
        .where(Case.client_id == client.id, visible_cases_clause(user))
        .order_by(Case.opened_on.desc(), Case.id.desc())
    )
    return list(db.session.execute(query).scalars())


def citizenships_in_use() -> list[str]:
    """The citizenship codes clients have, for filters."""
    query = sa.select(Client.citizenship).distinct().order_by(Client.citizenship)
    return list(db.session.execute(query).scalars())
