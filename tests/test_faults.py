"""When things fail: a database that cannot be reached, an audit write that fails."""

import sqlite3

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.cases.models import Case
from app.extensions import db
from config import TestConfig
from tests.factories import Factories
from tests.helpers import csrf_field, login, row_counts, submit


@pytest.fixture
def unreachable(tmp_path):
    """An app whose database server is not there (nothing listens on port 1)."""
    return create_app(TestConfig("postgresql+psycopg://huquq@127.0.0.1:1/huquq", tmp_path))


@pytest.mark.parametrize("path", ["/login", "/cases", "/dashboard", "/no/such/page"])
def test_an_unreachable_database_gives_a_503_page_not_a_traceback(unreachable, path):
    response = unreachable.test_client().get(path)
    assert (
        response.status_code in (503, 404)
        if path == "/no/such/page"
        else response.status_code == 503
    )
    if response.status_code == 503:
        assert response.headers["Retry-After"] == "30"
        assert "cannot be reached" in response.text and "Traceback" not in response.text
        assert "Content-Security-Policy" in response.headers


def test_health_check_says_the_database_is_down(unreachable):
    response = unreachable.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_a_failing_audit_write_rolls_the_change_back(client, make, app, monkeypatch):
    import app.audit.services as audit

    user = make.user("volunteer")
    case = make.case(by=user, region="Москва")
    login(client, user)
    before = row_counts(app)

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO audit_events", {}, Exception("disk full"))

    monkeypatch.setattr(audit, "_row", broken)
    response = submit(
        client,
        f"/cases/{case.reference}/edit",
        {
            "case_type": "deportation_challenge",
            "opened_on": "2025-03-01",
            "region": "Казань",
        },
    )
    assert response.status_code == 503
    assert row_counts(app) == before
    with app.app_context():
        assert (
            db.session.execute(sa.select(Case.region).where(Case.id == case.id)).scalar()
            == "Москва"
        )


def test_a_database_locked_past_the_timeout_says_busy_and_the_same_post_then_succeeds(tmp_path):
    """SQLite's write lock held elsewhere longer than the busy timeout: a note posted with a
    valid CSRF token is answered 503 "busy" (not a 400 "form out of date", not a 500) and
    nothing is written; once the lock is released the very same POST is saved, once."""
    path = tmp_path / "busy.sqlite3"
    config = TestConfig(f"sqlite:///{path}", tmp_path)
    config.SQLITE_BUSY_TIMEOUT_MS = 200
    app = create_app(config)
    with app.app_context():
        upgrade()
    make = Factories(app)
    volunteer = make.user("volunteer")
    case = make.case(by=volunteer)
    client = app.test_client()
    login(client, volunteer)
    page = client.get(f"/cases/{case.reference}")
    note = {
        **csrf_field(page.text),
        "kind": "note",
        "occurred_on": "2025-05-06",
        "body": "Звонил в суд, заседание перенесли",
    }
    before = row_counts(app)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # someone else is writing, for longer than 200 ms
    try:
        busy = client.post(f"/cases/{case.reference}/entries", data=note)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert busy.status_code == 503, busy.status_code
    assert busy.headers["Retry-After"] == "5"
    assert "database is busy" in busy.text and "cannot be reached" not in busy.text
    assert row_counts(app) == before
    saved = client.post(f"/cases/{case.reference}/entries", data=note)
    assert saved.status_code == 302
    with app.app_context():
        bodies = [e.body for e in db.session.get(Case, case.id).entries]
        assert bodies.count("Звонил в суд, заседание перенесли") == 1
        db.session.remove()
        db.engine.dispose()
