"""Writes to clients. Each takes the acting user (for the audit trail); the caller commits."""

from collections.abc import Mapping

from app.audit.services import acting
from app.auth.models import User
from app.clients.models import Client, fold_name
from app.extensions import db

CLIENT_FIELDS = (
    "full_name",
    "citizenship",
    "phone",
    "messenger",
    "preferred_language",
    "born_on",
    "notes",
)


def _apply(client: Client, data: Mapping) -> None:
    for field in CLIENT_FIELDS:
        if field in data:
            setattr(client, field, data[field] or None)
    client.name_folded = fold_name(client.full_name)


def create_client(data: Mapping, by: User | None) -> Client:
    acting(by)
    client = Client(created_by_id=by.id if by else None)
    _apply(client, data)
    db.session.add(client)
    db.session.flush()
    return client


def update_client(client: Client, data: Mapping, by: User | None) -> Client:
    acting(by)
    _apply(client, data)
    db.session.flush()
    return client
