"""A long export read in parts by helper processes: the same file one process writes, on a
database of its own (helpers have their own connections and see only what is committed).
Helpers are forked by a fork server, never by the exporting process, and whatever ends an
export, none is left behind."""

import ast
import re
import socket
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.crypto import KeyError_
from app.database import begin_reading
from app.exports import helpers, parts
from app.exports.services import export_cases
from app.extensions import db
from tests.databases import app_on_fresh_database
from tests.exports import helping

CASES = 300
PART_IDS = 37  # nine parts


@pytest.fixture
def seeded(backend, tmp_path):
    with app_on_fresh_database(backend, tmp_path, "parts") as app:
        result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", str(CASES)])
        assert result.exit_code == 0, result.output
        app.config["HUQUQ_EXPORT_PART_IDS"] = PART_IDS
        yield app
        assert _helpers_running() == []  # every helper is gone afterwards


def _helpers_running() -> list[int]:
    """The fork server's children: the helpers still there."""
    server = helpers.server_pid()
    if server is None:
        return []
    tasks = Path(f"/proc/{server}/task").iterdir()
    return [int(pid) for task in tasks for pid in (task / "children").read_text().split()]


def _finished(app) -> AuditEvent:
    with app.app_context():
        return db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "export_finished")
        ).scalar_one()


def _export(app, helpers: int, filters: dict | None = None, identified: bool = False) -> str:
    app.config["HUQUQ_EXPORT_HELPERS"] = helpers
    with app.app_context():
        if helpers:
            assert parts.parts_wanted(filters or {}, None)[0] == helpers
        return b"".join(export_cases(filters or {}, None, identified, by=None)).decode()


@pytest.mark.parametrize("identified", [False, True])
def test_parts_give_the_file_one_process_gives(seeded, identified):
    alone = _export(seeded, 0, identified=identified)
    assert alone.count("\r\n") == CASES + 1
    assert _export(seeded, 2, identified=identified) == alone


def test_parts_keep_the_case_list_filters(seeded):
    filters = {"region": "Москва", "status": "closed"}
    alone = _export(seeded, 0, filters)
    assert 1 < alone.count("\r\n") < CASES
    assert _export(seeded, 3, filters) == alone


def test_few_cases_are_written_in_one_process(seeded):
    seeded.config["HUQUQ_EXPORT_PART_IDS"] = 10_000
    with seeded.app_context():
        assert parts.parts_wanted({}, None) == (0, [])


def test_a_download_cut_off_stops_the_helpers_and_is_recorded(seeded):
    seeded.config["HUQUQ_EXPORT_HELPERS"] = 2
    with seeded.app_context():
        chunks = export_cases({}, None, False, by=None)
        next(chunks)
        sent = next(chunks).count(b"\r\n")
        chunks.close()
        assert _helpers_running() == []
    assert sent == PART_IDS
    event = _finished(seeded)
    assert event.changes["result"][1] == "cut_off" and event.changes["rows"][1] == sent


def test_a_value_that_does_not_open_stops_the_export(seeded):
    """A summary moved to another case does not open (it is bound to its own): the helper's
    error reaches the exporter, as it would in one process."""
    with seeded.app_context():
        db.session.execute(  # behind the audit trail's back, as a damaged database would be
            sa.text(
                "UPDATE cases SET summary = (SELECT summary FROM cases WHERE id = 2) WHERE id = 250"
            )
        )
        db.session.commit()
    seeded.config["HUQUQ_EXPORT_HELPERS"] = 2
    with seeded.app_context(), pytest.raises(KeyError_, match="cannot be decrypted"):
        b"".join(export_cases({}, None, False, by=None))


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite: see parts.py
def test_on_postgresql_helpers_read_the_exporting_transactions_moment(seeded):
    """A case saved after the export began is read by a helper as it was when it began,
    however late the helper starts: the file is the database at one moment."""
    with seeded.app_context():
        begin_reading()
        target = parts.target_of(db.session.connection())
        other = sa.create_engine(db.engine.url)
        with other.begin() as connection:  # another connection, outside the app's session
            connection.execute(sa.text("UPDATE cases SET region = 'Тверь' WHERE id = 1"))
        other.dispose()
        helper = parts.connect(target)
        try:
            [(region,)] = helper.execute("SELECT region FROM cases WHERE id = 1").fetchall()
        finally:
            helper.close()
            db.session.rollback()
    assert region != "Тверь"


def test_a_helper_that_dies_stops_the_export_with_an_error(seeded, monkeypatch):
    """A helper gone before it sent its parts (killed, out of memory) is an error the exporter
    raises, not a wait for lines that never come, nor a file with parts missing."""
    monkeypatch.setattr(parts, "_help", helping.dies)
    seeded.config["HUQUQ_EXPORT_HELPERS"] = 2
    with seeded.app_context(), pytest.raises(helpers.HelperError, match="helper stopped"):
        b"".join(export_cases({}, None, False, by=None))
    assert _finished(seeded).changes["result"][1] == "failed"


def test_a_helper_that_does_not_answer_in_time_is_killed_and_the_export_fails(seeded, monkeypatch):
    """Never a wait for ever: the download ends with an error, its end is on record as
    failed, and the silent helpers are gone."""
    monkeypatch.setattr(parts, "_help", helping.hangs)
    seeded.config.update(HUQUQ_EXPORT_HELPERS=2, HUQUQ_EXPORT_PART_TIMEOUT=0.5)
    with seeded.app_context():
        chunks = export_cases({}, None, False, by=None)
        assert next(chunks).startswith(b"\xef\xbb\xbfreference,")  # the header
        with pytest.raises(helpers.HelperError, match=r"sent no part for 0\.5 s"):
            next(chunks)
        assert _helpers_running() == []
    event = _finished(seeded)
    assert event.changes["result"][1] == "failed" and event.changes["rows"][1] == 0


def test_a_lock_another_thread_holds_does_not_reach_the_helpers(seeded, monkeypatch):
    """How exports hung in gunicorn's threaded workers: a helper forked while another thread
    held a lock (SQLite's, the allocator's) inherited it held, and waited for it for ever.
    Here a thread holds a lock the helpers' work needs while the export starts them; forked
    by the fork server, they never hold it, and the file is whole."""
    alone = _export(seeded, 0)
    monkeypatch.setattr(parts, "_help", helping.locked_help)
    seeded.config["HUQUQ_EXPORT_PART_TIMEOUT"] = 20  # a helper stuck on the lock fails the test
    taken, release = threading.Event(), threading.Event()

    def hold():
        with helping.LOCK:
            taken.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait()
    try:
        assert _export(seeded, 2) == alone
    finally:
        release.set()
        holder.join()


def test_a_helper_holds_only_its_pipes_and_runs_one_thread(tmp_path):
    """Nothing of the exporting process reaches a helper: not its sockets (other people's
    connections, in a web worker), files or threads; the job, keys included, comes through
    the helper's own pipe, which is closed once read."""
    listening = socket.create_server(("127.0.0.1", 0))
    secret = (tmp_path / "open-file").open("w")
    busy = threading.Event()
    others = [threading.Thread(target=busy.wait) for _ in range(4)]
    for thread in others:
        thread.start()
    try:
        helper = helpers.start_helper(helping.reports, timeout=20)
        try:
            threads, held = helper.received(20)
        finally:
            helper.end(kill=False)
    finally:
        busy.set()
        for thread in others:
            thread.join()
        listening.close()
        secret.close()
    held = ast.literal_eval(held.decode())
    assert threads == 1
    assert sorted(held) == [0, 1, 2, max(held)] and held[max(held)].startswith("pipe:")
    assert not any("socket" in what or "open-file" in what for what in held.values())


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_dates_are_written_yyyy_mm_dd_whatever_the_servers_date_style(seeded):
    """PostgreSQL writes a date as its DateStyle says (30.11.2026 in German style): the export
    asks for ISO, in one process and in the helpers."""
    before = _export(seeded, 0)
    assert re.search(r",\d{4}-\d{2}-\d{2},", before)
    with seeded.app_context():
        database = db.engine.url.database
        db.session.execute(sa.text(f"ALTER DATABASE \"{database}\" SET DateStyle = 'German, DMY'"))
        db.session.commit()
        db.engine.dispose()  # the connections made from now on have it
        assert (
            db.session.execute(sa.text("SELECT DATE '2026-11-30'::text")).scalar() == "30.11.2026"
        )
        db.session.rollback()
    assert _export(seeded, 0) == before
    assert _export(seeded, 2) == before
