"""Every export is in the audit trail — started before its first byte, finished after its last
— whatever else is happening on SQLite: people saving at the same moment, or the database
busy past its timeout (then nothing is sent at all)."""

import sqlite3
import threading
from contextlib import contextmanager

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.audit.models import AuditEvent
from app.extensions import db
from config import TestConfig
from tests.factories import Factories
from tests.helpers import login, submit

EXPORTS, SAVERS = 24, 3


@contextmanager
def _app_on_sqlite(tmp_path, busy_timeout_ms: int):
    config = TestConfig(f"sqlite:///{tmp_path / 'recorded.sqlite3'}", tmp_path)
    config.SQLITE_BUSY_TIMEOUT_MS = busy_timeout_ms
    app = create_app(config)
    with app.app_context():
        upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _events(app) -> list[AuditEvent]:
    with app.app_context():
        export = AuditEvent.action.in_(["export_started", "export_finished"])
        query = sa.select(AuditEvent).where(export).order_by(AuditEvent.id)
        return list(db.session.execute(query).scalars())


def test_every_export_is_recorded_started_and_finished_while_others_save(tmp_path):
    """Before, the record was written after the rows, by a read turned into a write: under
    people's saves it failed with "database is locked" (11 exports of 54 recorded)."""
    with _app_on_sqlite(tmp_path, 15_000) as app:
        make = Factories(app)
        coordinator = make.user("coordinator")
        cases = [make.case(by=coordinator) for _ in range(5)]
        stop, failures, sizes = threading.Event(), [], []

        def logged_in():
            client = app.test_client()
            login(client, coordinator)
            return client

        # Logged in one after the other: logins at once would be told "busy" (password hashing
        # is capped per worker), which is not what this test is about.
        savers_in = [logged_in() for _ in range(SAVERS)]
        exporters_in = [logged_in() for _ in range(3)]

        def save_notes(n: int) -> None:
            client = savers_in[n]
            page = f"/cases/{cases[n].reference}"
            while not stop.is_set():
                note = {"kind": "note", "occurred_on": "2025-05-06", "body": "звонок"}
                response = submit(client, page, note, action=f"{page}/entries")
                if response.status_code != 302:
                    failures.append(f"note: {response.status_code}")

        def export(n: int, count: int) -> None:
            client = exporters_in[n]
            for _ in range(count):
                response = client.get("/exports/cases.csv")
                body = response.get_data()
                if response.status_code != 200:
                    failures.append(f"export: {response.status_code}")
                sizes.append(body.count(b"\r\n"))

        savers = [threading.Thread(target=save_notes, args=(n,)) for n in range(SAVERS)]
        exporters = [threading.Thread(target=export, args=(n, EXPORTS // 3)) for n in range(3)]
        for thread in savers + exporters:
            thread.start()
        for thread in exporters:
            thread.join()
        stop.set()
        for thread in savers:
            thread.join()
        events = _events(app)
    assert failures == []
    assert sizes == [len(cases) + 1] * EXPORTS  # the header and every case, each time
    started = [e for e in events if e.action == "export_started"]
    finished = [e for e in events if e.action == "export_finished"]
    assert len(started) == len(finished) == EXPORTS
    assert sorted(e.changes["export"][1] for e in finished) == [e.id for e in started]
    assert {e.changes["result"][1] for e in finished} == {"complete"}
    assert {e.actor_id for e in events} == {coordinator.id}


def test_nothing_is_sent_when_the_start_cannot_be_recorded(tmp_path):
    """Someone holds the write lock past the busy timeout: the export answers 503 ("try
    again") before its first byte, and no record says it ran; once the lock is free, it runs."""
    with _app_on_sqlite(tmp_path, 200) as app:
        make = Factories(app)
        coordinator = make.user("coordinator")
        make.case(by=coordinator)
        client = app.test_client()
        login(client, coordinator)
        holder = sqlite3.connect(tmp_path / "recorded.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            busy = client.get("/exports/cases.csv")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert _events(app) == []
        again = client.get("/exports/cases.csv")
        assert again.status_code == 200 and again.get_data().count(b"\r\n") == 2
        assert [e.action for e in _events(app)] == ["export_started", "export_finished"]
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert busy.content_type.startswith("text/html") and "reference," not in busy.text
