"""SQLite set up for several people at once: WAL, foreign keys, waiting writers; its files
readable by their owner only."""

import os
import stat
import threading
import time

import pytest
import sqlalchemy as sa

from app import create_app
from app.clients.models import Client
from app.clients.services import create_client
from app.database import WAL_LIMIT, _begin_mode
from app.extensions import db
from config import TestConfig
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
        assert pragma("journal_size_limit") == WAL_LIMIT  # the WAL is cut back after a peak


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


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    """The usual umask, under which SQLite by itself makes its files readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_database_its_wal_and_shm_and_the_instance_folder_are_the_owners_only(
    tmp_path, umask_022
):
    instance = tmp_path / "instance"
    # Not a copy of the template: the file is the one the app itself makes.
    with (
        app_on_fresh_database("sqlite", instance, "private", copied=False) as app,
        app.app_context(),
    ):
        create_client({"full_name": "Каримов Шерзод", "citizenship": "UZ"}, by=None)
        db.session.commit()
        files = {path.name: _mode(path) for path in instance.glob("private.sqlite3*")}
    assert files == {
        "private.sqlite3": 0o600,
        "private.sqlite3-wal": 0o600,
        "private.sqlite3-shm": 0o600,
    }
    assert _mode(instance) == 0o700


def test_files_made_before_are_tightened_when_the_app_starts(tmp_path, umask_022):
    """A database made by an earlier version, readable by every local user (password hashes,
    sessions): the app takes the others' permissions away as it starts."""
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    for suffix in ("", "-wal", "-shm"):
        (instance / f"old.sqlite3{suffix}").touch(mode=0o644)
    create_app(TestConfig(f"sqlite:///{instance / 'old.sqlite3'}", instance))
    modes = {path.name: _mode(path) for path in instance.glob("old.sqlite3*")}
    assert set(modes.values()) == {0o600} and len(modes) == 3
    assert _mode(instance) == 0o700
