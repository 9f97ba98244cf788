"""Fixtures: the real app on real migrations, on SQLite always and on PostgreSQL when
TEST_DATABASE_URL is set. The schema is built once per backend; each test runs inside a
transaction that is rolled back, so tests never see each other's rows."""

from datetime import UTC, datetime, timedelta

import pytest
from flask_sqlalchemy.session import Session

from app import models_base
from app.audit.queries import forget_figures
from app.extensions import db
from tests import parallel
from tests.databases import BACKENDS, app_on_fresh_database
from tests.factories import Factories


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def migrated_app(backend, tmp_path_factory):
    with app_on_fresh_database(backend, tmp_path_factory.mktemp(f"app-{backend}"), "app") as app:
        yield app


class _JoinedSession(Session):
    """Flask-SQLAlchemy picks an engine per table; in tests, use the one shared connection."""

    def get_bind(self, *args, **kwargs):
        return self.bind if self.bind is not None else super().get_bind(*args, **kwargs)


@pytest.fixture
def app(migrated_app):
    """The app, with every session of this test joined to one outer transaction."""
    with migrated_app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = db._make_scoped_session(
        {"class_": _JoinedSession, "bind": connection, "join_transaction_mode": "create_savepoint"}
    )
    try:
        yield migrated_app
    finally:
        with migrated_app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()
        # Rolling back is a restore: figures remembered against this test's data must go.
        with migrated_app.app_context():
            forget_figures()


@pytest.fixture
def ctx(app):
    """An app context, for tests that call services and queries directly."""
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app) -> Factories:
    return Factories(app)


def pytest_configure(config):
    parallel.start(config)


def pytest_collection_modifyitems(config, items):
    """Tests that drive the browser are marked so, whether or not their module says it."""
    for item in items:
        if "browser" in item.fixturenames:
            item.add_marker(pytest.mark.browser)
    parallel.plan(config, items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    return parallel.scheduler(config, log)


def pytest_terminal_summary(terminalreporter):
    """One line for what was skipped and why, instead of one per test."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line(f"skipped {count} tests: {reason}")


class FrozenClock:
    """The app's clock, held still and moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> FrozenClock:
    frozen = FrozenClock()
    monkeypatch.setattr(models_base, "utcnow", frozen)
    return frozen
