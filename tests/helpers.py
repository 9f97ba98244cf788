"""Driving the app as a browser does: real forms, real CSRF tokens."""

import re

import sqlalchemy as sa

from app.extensions import db
from tests.factories import PASSWORD

_INPUT = re.compile(r"<input\b[^>]*>")
_ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def csrf_field(html: str) -> dict[str, str]:
    """{field name: token} of the page's first CSRF token (after the header's logout form)."""
    tokens = []
    for tag in _INPUT.findall(html):
        attributes = dict(_ATTRIBUTE.findall(tag))
        if attributes.get("name", "").endswith("csrf_token"):
            tokens.append({attributes["name"]: attributes["value"]})
    assert tokens, "the page has no CSRF token"
    return tokens[1] if len(tokens) > 1 else tokens[0]


def submit(client, page: str, data: dict, action: str | None = None, follow: bool = False):
    """Open ``page``, take the CSRF token from its form, and post ``data`` to ``action``
    (default: the page itself)."""
    response = client.get(page)
    assert response.status_code == 200, f"{page} answered {response.status_code}"
    return client.post(
        action or page,
        data={**csrf_field(response.text), **data},
        follow_redirects=follow,
    )


def login(client, user, password: str = PASSWORD):
    response = submit(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, "login failed"
    return response


def row_counts(app) -> dict[str, int]:
    """How many rows each table holds: to show that a refused request wrote nothing. (The
    browser's session row is bookkeeping, not data, and is left out.)"""
    with app.app_context():
        return {
            name: db.session.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for name, table in db.metadata.tables.items()
            if name != "user_sessions"
        }
