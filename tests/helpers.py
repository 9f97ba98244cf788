"""Driving the app as a browser does: real forms, real CSRF tokens."""

import re

from tests.factories import PASSWORD

_TOKEN = re.compile(r'name="([\w-]*csrf_token)" type="hidden" value="([^"]+)"')


def csrf_field(html: str) -> dict[str, str]:
    """{field name: token} of the page's first form."""
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return {match.group(1): match.group(2)}


def submit(client, page: str, data: dict, action: str | None = None, follow: bool = False):
    """Open ``page``, take the CSRF token from its form, and post ``data`` to ``action``
    (default: the page itself)."""
    response = client.get(page)
    assert response.status_code == 200, f"{page} answered {response.status_code}"
    return client.post(
        action or page, data={**csrf_field(response.text), **data},
        follow_redirects=follow,
    )


def login(client, user, password: str = PASSWORD):
    response = submit(client, "/login", {"email": user.email, "password": password})
    assert response.status_code == 302, "login failed"
    return response
