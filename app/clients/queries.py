"""Reads of clients."""

import sqlalchemy as sa

from app.access import visible_cases_clause, visible_clients_clause
from app.auth.models import User
from app.cases.models import Case  # the client's page lists their cases
from app.clients.models import Client, fold_name
from app.extensions import db

SEARCH_LIMIT = 50


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def clients_matching(name: str, user: User) -> list[Client]:
    """Clients visible to ``user`` whose name contains every word typed, in any order,
    ignoring case (Cyrillic included) and ё/е."""
    words = fold_name(name).split()
    conditions = [Client.name_folded.like(f"%{_escape_like(w)}%", escape="\\") for w in words]
    query = (
        sa.select(Client)
        .where(visible_clients_clause(user), *conditions)
        .order_by(Client.name_folded)
        .limit(SEARCH_LIMIT)
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
