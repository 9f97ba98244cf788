"""What every page shares: health check, error pages, headers, nothing from other hosts."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import login

ROOT = Path(__file__).resolve().parents[1]


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_unknown_page_is_a_404_page_not_a_traceback(client, make):
    login(client, make.user())
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "Not found" in response.text
    assert "Traceback" not in response.text


def test_unexpected_error_shows_the_500_page_and_saves_nothing(client, make, monkeypatch):
    from app.cases import routes

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(routes, "case_page", broken)
    login(client, make.user())
    response = client.get("/cases")
    assert response.status_code == 500
    assert "Nothing was saved" in response.text and "boom" not in response.text


@pytest.mark.parametrize("path", ["/login", "/healthz", "/no/such/page"])
def test_security_headers_on_public_and_error_pages(client, path):
    _check_headers(client.get(path))


def test_security_headers_on_pages_behind_login(client, make):
    user = make.user()
    login(client, user)
    case = make.case(by=user)
    for path in ("/cases", f"/cases/{case.reference}", "/clients", "/cases/new"):
        response = client.get(path)
        assert response.status_code == 200
        _check_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def _check_headers(response):
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_load_nothing_from_other_hosts_and_have_no_inline_script(client, make):
    user = make.user("coordinator")
    login(client, user)
    case = make.case(by=user)
    for path in (
        "/cases",
        f"/cases/{case.reference}",
        "/cases/new",
        "/clients",
        f"/cases/{case.reference}/edit",
    ):
        html = client.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', html), path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {path}"
        assert " style=" not in html and "<style" not in html, f"inline style on {path}"


def test_stylesheet_and_script_are_served_by_the_app(client):
    for path in ("/static/app.css", "/static/app.js"):
        assert client.get(path).status_code == 200


def test_phone_viewport_is_declared(client):
    assert (
        'name="viewport" content="width=device-width, initial-scale=1"'
        in client.get("/login", follow_redirects=True).text
    )


@pytest.mark.slow  # three processes that each start the app
def test_a_web_worker_loads_migrations_and_password_word_lists_only_when_used(tmp_path):
    """Alembic and zxcvbn's word lists are over 20 MB that a worker serving pages needs only
    to migrate or to judge a new password: they are imported then, not at start. The `db`
    commands still work from the command line."""
    env = {
        **os.environ,
        "HUQUQ_INSTANCE": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
    }

    def run(*args: str) -> str:
        done = subprocess.run(args, check=False, cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    flask = (sys.executable, "-m", "flask", "--app", "wsgi")
    run(*flask, "db", "upgrade")
    assert "(head)" in run(*flask, "db", "current")
    worker = """
import sys
from app import create_app
app = create_app()
assert app.test_client().get("/login").status_code in (200, 302)
print(sorted(m for m in ("alembic", "zxcvbn") if m in sys.modules))
from app.auth.services import password_problem
print(password_problem("correct horse battery staple") is None, "zxcvbn" in sys.modules)
"""
    assert run(sys.executable, "-c", worker).splitlines() == ["[]", "True True"]
