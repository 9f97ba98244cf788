"""SQLite set up for several people at once: WAL, foreign keys, waiting writers."""

import threading
import time

import pytest
import sqlalchemy as sa

from app.clients.models import Client
from app.clients.services import create_client
from app.database import _begin_mode
from app.extensions import db
from tests.databases import app_on_fresh_database


@pytest.fixture
def sqlite_app(tmp_path):
    with app_on_fresh_database("sqlite", tmp_path, "concurrency") as app:
        yield app


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(sqlite_app):
    with sqlite_app.app_context(), db.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == sqlite_app.config["SQLITE_BUSY_TIMEOUT_MS"]


def test_foreign_keys_are_enforced(sqlite_app):
    with sqlite_app.app_context(), pytest.raises(sa.exc.IntegrityError):
        db.session.execute(
            sa.text(
                "INSERT INTO cases (reference, client_id, case_type, opened_on, region,"
                " created_at, updated_at) VALUES ('HQ-TEST-0001', 999, 'other',"
                " '2025-01-01', 'x', '2025-01-01', '2025-01-01')"
            )
        )
        db.session.commit()


def test_concurrent_writers_wait_for_each_other_instead_of_failing(sqlite_app):
    """Each writer reads, then writes, then holds its transaction a moment: with deferred
    transactions SQLite would answer "database is locked" at once; with BEGIN IMMEDIATE the
    writers queue on the busy timeout and every write lands."""
    errors: list[Exception] = []
    writers, writes_each = 4, 15

    def writer(n: int) -> None:
        try:
            for i in range(writes_each):
                with sqlite_app.app_context():
                    db.session.execute(sa.select(sa.func.count()).select_from(Client)).scalar()
                    create_client({"full_name": f"Писатель {n}-{i}", "citizenship": "KG"}, by=None)
                    time.sleep(0.002)
                    db.session.commit()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite_app.app_context():
        count = db.session.execute(sa.select(sa.func.count()).select_from(Client)).scalar()
    assert count == writers * writes_each


@pytest.mark.parametrize(
    ("method", "begin"),
    [
        ("GET", "BEGIN"),
        ("HEAD", "BEGIN"),
        ("POST", "BEGIN IMMEDIATE"),
    ],
)
def test_only_requests_that_may_write_take_the_write_lock_up_front(sqlite_app, method, begin):
    with sqlite_app.test_request_context("/cases", method=method):
        assert _begin_mode() == begin
    with sqlite_app.app_context():  # the command line and services outside a request write
        assert _begin_mode() == "BEGIN IMMEDIATE"
