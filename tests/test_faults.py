"""When things fail: a database that cannot be reached, an audit write that fails."""

import pytest
import sqlalchemy as sa

from app import create_app
from app.cases.models import Case
from app.extensions import db
from config import TestConfig
from tests.helpers import login, row_counts, submit


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
