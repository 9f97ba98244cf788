"""Reads of clients. Names are sealed, so search goes through the keyed-hash index."""

import sqlalchemy as sa
from flask import abort

from app.auth.models import User
from app.cases.queries import clients_of_visible_cases, has_cases
from app.clients.matching import name_tokens, search_digests
from app.clients.models import Client, ClientIndex, PossibleDuplicate
from app.crypto import blind
from app.extensions import db
from app.identifiers import normalise_code

SEARCH_LIMIT = 50


def visible_clients_clause(user: User):
    """Staff see every client. A volunteer sees a client through the cases: the clients of the
    cases they can see, and a client they added who has no case at all yet (so a client whose
    only case went to someone else is gone from them with the case)."""
    if user.is_coordinator:
        return sa.true()
    return sa.or_(
        Client.id.in_(clients_of_visible_cases(user)),
        sa.and_(Client.created_by_id == user.id, ~has_cases(Client.id)),
    )


def load_client_or_404(pseudonym: str, user: User) -> Client:
    """The client with this pseudonym code if ``user`` may see them; otherwise 404."""
    client = db.session.execute(
        sa.select(Client).where(
            Client.pseudonym == normalise_code(pseudonym), visible_clients_clause(user)
        )
    ).scalar_one_or_none()
    if client is None:
        abort(404)
    return client


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


def open_possible_duplicates() -> list[PossibleDuplicate]:
    """Clients added who may be someone the organisation already has, not checked yet by a
    coordinator, oldest first (with both clients and who added the new one)."""
    query = (
        sa.select(PossibleDuplicate)
        .where(PossibleDuplicate.checked_at.is_(None))
        .options(
            sa.orm.joinedload(PossibleDuplicate.client),
            sa.orm.joinedload(PossibleDuplicate.other),
            sa.orm.joinedload(PossibleDuplicate.found_by),
        )
        .order_by(PossibleDuplicate.created_at, PossibleDuplicate.id)
    )
    return list(db.session.execute(query).scalars())


def possible_duplicates_of(client: Client) -> list[PossibleDuplicate]:
    """The unchecked possible duplicates this client is one side of (for coordinators)."""
    query = (
        sa.select(PossibleDuplicate)
        .where(
            PossibleDuplicate.checked_at.is_(None),
            sa.or_(
                PossibleDuplicate.client_id == client.id, PossibleDuplicate.other_id == client.id
            ),
        )
        .order_by(PossibleDuplicate.id)
    )
    return list(db.session.execute(query).scalars())


def recent_clients(user: User, limit: int = 20) -> list[Client]:
    """The clients ``user`` may see, most recently added first."""
    query = (
        sa.select(Client)
        .where(visible_clients_clause(user))
        .order_by(Client.created_at.desc(), Client.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def citizenships_in_use() -> list[str]:
    """The citizenship codes clients have, for filters."""
    query = sa.select(Client.citizenship).distinct().order_by(Client.citizenship)
    return list(db.session.execute(query).scalars())
