"""Writes to clients. Each takes the acting user (for the audit trail); the caller commits."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app import models_base
from app.audit.models import AuditEvent
from app.audit.services import acting, record_event
from app.auth.models import User
from app.cases.services import open_case
from app.clients.matching import search_digests
from app.clients.models import Client, ClientIndex, PossibleDuplicate
from app.clients.queries import visible_clients_clause
from app.extensions import db

# How many duplicate checks someone who cannot see every client may run in an hour; past it,
# the check is left to a coordinator. Enough for a busy intake (each new client may take two:
# the check and the confirmation), too few to go through a list of names.
DUPLICATE_CHECKS_PER_HOUR = 30
# The index's kinds a duplicate is found by, as PossibleDuplicate.matched names them.
_MATCHED_BY = {"fullname": "name", "phone": "phone", "doc": "document"}

CLIENT_FIELDS = (
    "full_name",
    "citizenship",
    "phone",
    "messenger",
    "document_number",
    "preferred_language",
    "born_on",
    "notes",
    "safe_contact",
)


def _reindex(client: Client) -> None:
    db.session.execute(sa.delete(ClientIndex).where(ClientIndex.client_id == client.id))
    pairs = search_digests(client.full_name, client.phone, client.document_number)
    if pairs:
        db.session.execute(
            sa.insert(ClientIndex),
            [{"client_id": client.id, "kind": kind, "digest": digest} for kind, digest in pairs],
        )


def _apply(client: Client, data: Mapping) -> None:
    for field in CLIENT_FIELDS:
        if field in data:
            setattr(client, field, data[field] or None)


@dataclass(frozen=True)
class DuplicateCheck:
    """What a duplicate check found, as far as the person who ran it may know."""

    # Clients they may see who may be this person: they are asked before adding.
    to_confirm: list[Client]
    # Client id → what matched, for clients they may not see (or, past the hourly limit, all):
    # marked on the new client for a coordinator, never shown to the person adding.
    to_flag: dict[int, list[str]]


def _matches(data: Mapping) -> dict[int, list[str]]:
    """Clients with the same name (words in any spelling and order), phone or document number
    as ``data``: id → what matched."""
    pairs = [
        (kind, digest)
        for kind, digest in search_digests(
            data.get("full_name"), data.get("phone"), data.get("document_number")
        )
        if kind in _MATCHED_BY
    ]
    if not pairs:
        return {}
    rows = db.session.execute(
        sa.select(ClientIndex.client_id, ClientIndex.kind)
        .where(
            ClientIndex.kind.in_(sorted({kind for kind, _ in pairs})),
            ClientIndex.digest.in_([digest for _, digest in pairs]),
        )
        .distinct()
    )
    found: dict[int, list[str]] = {}
    for client_id, kind in rows:
        found.setdefault(client_id, []).append(_MATCHED_BY[kind])
    return {client_id: sorted(kinds) for client_id, kinds in found.items()}


def recent_duplicate_checks(user: User) -> int:
    """How many duplicate checks ``user`` ran in the last hour (the audit trail counts them)."""
    since = models_base.utcnow() - timedelta(hours=1)
    return db.session.execute(
        sa.select(sa.func.count()).where(
            AuditEvent.actor_id == user.id,
            AuditEvent.action == "duplicate_check",
            AuditEvent.occurred_at >= since,
        )
    ).scalar()


def check_duplicates(data: Mapping, by: User | None, confirmed: bool = False) -> DuplicateCheck:
    """Who the person about to be added may already be. Matches ``by`` may see are theirs to
    confirm (unless they ``confirmed`` this is someone else); matches they may not see are
    never told (whether the organisation helps someone is not theirs to learn): they go to a
    coordinator. Someone who cannot see every client gets answers for at most
    DUPLICATE_CHECKS_PER_HOUR checks an hour; past that every match goes to a coordinator.
    Every check is audited: who, and how many matches of each sort, never what was typed."""
    acting(by)
    matches = _matches(data)
    visible: list[Client] = []
    if matches:
        query = sa.select(Client).where(Client.id.in_(list(matches)))
        if by is not None:
            query = query.where(visible_clients_clause(by))
        visible = sorted(
            db.session.execute(query).scalars(), key=lambda c: (c.full_name or "").casefold()
        )
    hidden = {i: kinds for i, kinds in matches.items() if i not in {c.id for c in visible}}
    deferred = (
        by is not None
        and not by.is_coordinator
        and recent_duplicate_checks(by) >= DUPLICATE_CHECKS_PER_HOUR
    )
    record_event(
        "duplicate_check",
        "clients",
        {
            "visible": [None, len(visible)],
            "not_visible": [None, len(hidden)],
            "deferred": [None, deferred],
        },
    )
    if deferred:
        return DuplicateCheck(to_confirm=[], to_flag=matches)
    return DuplicateCheck(to_confirm=[] if confirmed else visible, to_flag=hidden)


def create_client(
    data: Mapping, by: User | None, possible_duplicates: Mapping[int, list[str]] | None = None
) -> Client:
    """``possible_duplicates``: client id → what matched (``DuplicateCheck.to_flag``), marked
    on the new client for a coordinator to check."""
    acting(by)
    client = Client(created_by_id=by.id if by else None)
    _apply(client, data)
    db.session.add(client)
    db.session.flush()
    _reindex(client)
    for other_id, kinds in (possible_duplicates or {}).items():
        db.session.add(
            PossibleDuplicate(
                client_id=client.id,
                other_id=other_id,
                matched=" ".join(kinds),
                found_by_id=by.id if by else None,
            )
        )
    db.session.flush()
    return client


def mark_duplicate_checked(flag: PossibleDuplicate, by: User) -> PossibleDuplicate:
    """A coordinator looked at a possible duplicate (and did whatever it needed)."""
    acting(by)
    flag.checked_at, flag.checked_by_id = models_base.utcnow(), by.id
    db.session.flush()
    return flag


def add_client_with_case(
    client_data: Mapping,
    case_data: Mapping,
    by: User | None,
    possible_duplicates: Mapping[int, list[str]] | None = None,
):
    """A new client and their first case (the intake page); the case."""
    client = create_client(client_data, by=by, possible_duplicates=possible_duplicates)
    return open_case(client, case_data, by=by)


def update_client(client: Client, data: Mapping, by: User | None) -> Client:
    acting(by)
    _apply(client, data)
    db.session.flush()
    _reindex(client)
    return client
