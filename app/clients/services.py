"""Writes to clients. Each takes the acting user (for the audit trail); the caller commits."""

from collections.abc import Mapping

import sqlalchemy as sa

from app.audit.services import acting
from app.auth.models import User
from app.clients.matching import document_token, name_tokens, phone_tokens, same_name_key
from app.clients.models import Client, ClientIndex
from app.crypto import Keys, blind
from app.extensions import db

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


def search_digests(
    full_name: str | None, phone: str | None, document: str | None, ring: Keys | None = None
) -> list:
    """(kind, digest) pairs a client is found by: each name word, the whole name (words in any
    order), the phone, the document number. ``ring``: other keys than the app's (rotation)."""
    pairs = []
    if full_name:
        pairs += [("name", blind("name", t, ring)) for t in name_tokens(full_name)]
        pairs.append(("fullname", blind("fullname", same_name_key(full_name), ring)))
    if phone:
        pairs += [("phone", blind("phone", t, ring)) for t in phone_tokens(phone)]
    if document and (token := document_token(document)):
        pairs.append(("doc", blind("doc", token, ring)))
    return pairs


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


def create_client(data: Mapping, by: User | None) -> Client:
    acting(by)
    client = Client(created_by_id=by.id if by else None)
    _apply(client, data)
    db.session.add(client)
    db.session.flush()
    _reindex(client)
    return client


def update_client(client: Client, data: Mapping, by: User | None) -> Client:
    acting(by)
    _apply(client, data)
    db.session.flush()
    _reindex(client)
    return client
