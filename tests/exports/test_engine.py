"""The export engine's contract, at its door (``stream_cases_csv``): every path writes the
plain path's bytes (the models' rows through the one CSV writer) — the fast path in this
process, and in parts by two or three helper processes — on the database the rest of the suite
uses, SQLite and PostgreSQL. Helpers read with connections of their own, so these cases are
committed (and removed at the end); in a test's own transaction, which they could not see, the
door reads in this process by itself. Helpers are forked by a fork server, never by the
exporting process, and whatever ends an export, none is left behind."""

import ast
import csv
import io
import re
import socket
import threading
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.audit.queries import forget_figures
from app.cases.models import Case
from app.crypto import KeyError_
from app.csvfiles import guard
from app.database import begin_reading
from app.demo.services import seed_demo
from app.exports.engine import HelperError, helpers, parts, stream_cases_csv
from app.exports.services import export_cases
from app.extensions import db
from tests.exports import helping
from tests.factories import Factories

CASES = 300
PART_IDS = 37  # nine parts or so
AWKWARD = [  # (region, summary, client's name): what the writer must quote or guard
    ("Москва, ЦАО", '=HYPERLINK("http://evil")', "Шералиев, Бахром"),
    ('"Южный" округ', "две строки\r\nвторая", '=cmd|" /C calc"!A0'),
    ("-юг", "＝1+1", "  @Ибрагимов"),
    ("'=x", "\u3000+7 916", "Абдуллаев Акмал"),
]
# (path, helpers): every way the door can write the file; helpers None: the configured number.
WAYS = [("fast", 0), ("fast", 2), ("fast", 3), ("fast", None)]


@contextmanager
def _rows_removed_afterwards(app):
    """Whatever rows are added inside are deleted at the end: the suite's other tests find the
    database as the migrations left it."""
    with app.app_context():
        tables = db.metadata.sorted_tables
        before = {
            table.name: set(db.session.execute(sa.select(*table.primary_key.columns)).all())
            for table in tables
        }
        db.session.rollback()
    try:
        yield
    finally:
        with app.app_context():
            db.session.rollback()
            with db.engine.begin() as connection:  # around the session, audit trail and all
                for table in reversed(tables):
                    keys = table.primary_key.columns
                    added = set(connection.execute(sa.select(*keys)).all()) - before[table.name]
                    for row in added:
                        where = (c == v for c, v in zip(keys, row, strict=True))
                        connection.execute(sa.delete(table).where(*where))
            forget_figures()


@pytest.fixture(scope="module")
def committed(migrated_app):
    """The suite's database with 300 demo cases and a few awkward ones, committed."""
    with _rows_removed_afterwards(migrated_app):
        with migrated_app.app_context():
            seed_demo(CASES, 17)
            db.session.commit()
        make = Factories(migrated_app)
        for region, summary, name in AWKWARD:
            person = make.client(full_name=name)
            make.case(client=person, region=region, summary=summary)
            make.case(client=person, region=region, outcome="success", closed_on=date(2025, 4, 2))
        yield migrated_app


@pytest.fixture
def seeded(committed, monkeypatch):
    monkeypatch.setitem(committed.config, "HUQUQ_EXPORT_PART_IDS", PART_IDS)
    yield committed
    assert _helpers_running() == []  # every helper is gone afterwards


def _helpers_running() -> list[int]:
    """The fork server's children: the helpers still there."""
    server = helpers.server_pid()
    if server is None:
        return []
    tasks = Path(f"/proc/{server}/task").iterdir()
    return [int(pid) for task in tasks for pid in (task / "children").read_text().split()]


def _finished(app) -> AuditEvent:
    """The last export's end, as the audit trail has it."""
    with app.app_context():
        return db.session.execute(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "export_finished")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        ).scalar_one()


def _file(app, path="fast", helpers=0, filters=None, identified=False) -> str:
    """The file, through the door, as an export reads it: in a read transaction of its own."""
    with app.app_context():
        begin_reading()
        try:
            if path == "fast" and helpers:
                assert parts.parts_wanted(filters or {}, None, helpers)[0] == helpers
            chunks = stream_cases_csv(filters or {}, None, identified, path=path, helpers=helpers)
            return b"".join(chunks).decode()
        finally:
            db.session.rollback()


def _export(app, helpers: int) -> str:
    """The file as ``export_cases`` gives it, with this many helpers configured."""
    app.config["HUQUQ_EXPORT_HELPERS"] = helpers
    try:
        with app.app_context():
            return b"".join(export_cases({}, None, False, by=None)).decode()
    finally:
        app.config["HUQUQ_EXPORT_HELPERS"] = None


@pytest.mark.parametrize("identified", [False, True], ids=["pseudonyms", "names"])
@pytest.mark.parametrize(
    "filters", [{}, {"region": "Москва", "status": "closed"}], ids=["all", "filtered"]
)
@pytest.mark.parametrize(("path", "helpers"), WAYS, ids=["here", "2-helpers", "3-helpers", "conf"])
def test_every_path_writes_the_plain_paths_bytes(seeded, path, helpers, filters, identified):
    plain = _file(seeded, "plain", None, filters, identified)
    rows = list(csv.reader(io.StringIO(plain[1:], newline="")))[1:]
    if filters:
        assert 1 < len(rows) < CASES
    else:
        assert len(rows) == CASES + 2 * len(AWKWARD)
        cells = {cell for row in rows for cell in row}
        for region, summary, name in AWKWARD:
            assert guard(region) in cells and guard(summary) in cells
            assert (guard(name) in cells) == identified
    assert _file(seeded, path, helpers, filters, identified) == plain


def test_export_cases_gives_the_file_the_door_gives(seeded):
    assert _export(seeded, 2) == _export(seeded, 0) == _file(seeded, "plain")


def test_few_cases_are_written_in_one_process(seeded, monkeypatch):
    monkeypatch.setitem(seeded.config, "HUQUQ_EXPORT_PART_IDS", 10_000_000)
    with seeded.app_context():
        begin_reading()
        assert parts.parts_wanted({}, None, 2) == (0, [])
        db.session.rollback()


def test_a_download_cut_off_stops_the_helpers_and_is_recorded(seeded):
    seeded.config["HUQUQ_EXPORT_HELPERS"] = 2
    try:
        with seeded.app_context():
            chunks = export_cases({}, None, False, by=None)
            next(chunks)
            first = next(chunks)
            chunks.close()
            assert _helpers_running() == []
    finally:
        seeded.config["HUQUQ_EXPORT_HELPERS"] = None
    event = _finished(seeded)
    assert event.changes["result"][1] == "cut_off"
    assert 0 < event.changes["rows"][1] <= PART_IDS and first.count(b"\r\n") >= PART_IDS // 2


@contextmanager
def _changed_behind_the_apps_back(app, case_id: int, **values):
    """These columns of a committed case changed (as a damaged database, or someone else's
    save, would), and put back afterwards."""
    table = Case.__table__
    with app.app_context(), db.engine.begin() as connection:
        columns = (table.c[name] for name in values)
        before = connection.execute(sa.select(*columns).where(table.c.id == case_id)).one()
        connection.execute(sa.update(table).where(table.c.id == case_id).values(**values))
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as connection:
            update = sa.update(table).where(table.c.id == case_id)
            connection.execute(update.values(**before._asdict()))


def _case_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.execute(sa.select(Case.id).order_by(Case.id)).scalars())


def test_a_value_that_does_not_open_stops_the_export(seeded):
    """A summary moved to another case does not open (it is bound to its own): the helper's
    error reaches the exporter, as it would in one process."""
    ids = _case_ids(seeded)
    with seeded.app_context():
        moved = db.session.execute(sa.select(Case._summary).where(Case.id == ids[1])).scalar()
    with (
        _changed_behind_the_apps_back(seeded, ids[-10], summary=moved),
        pytest.raises(KeyError_, match="cannot be decrypted"),
    ):
        _file(seeded, "fast", 2)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite: see parts.py
def test_on_postgresql_helpers_read_the_exporting_transactions_moment(seeded):
    """A case saved after the export began is read by a helper as it was when it began,
    however late the helper starts: the file is the database at one moment."""
    first = _case_ids(seeded)[0]
    with seeded.app_context():
        begin_reading()
        target = parts.target_of(db.session.connection())
        with _changed_behind_the_apps_back(seeded, first, region="Тверь"):
            helper = parts.connect(target)
            try:
                [(region,)] = helper.execute(
                    "SELECT region FROM cases WHERE id = %s", (first,)
                ).fetchall()
            finally:
                helper.close()
        db.session.rollback()
    assert region != "Тверь"


def test_a_helper_that_dies_stops_the_export_with_an_error(seeded, monkeypatch):
    """A helper gone before it sent its parts (killed, out of memory) is an error the exporter
    raises, not a wait for lines that never come, nor a file with parts missing."""
    monkeypatch.setattr(parts, "_help", helping.dies)
    monkeypatch.setitem(seeded.config, "HUQUQ_EXPORT_HELPERS", 2)
    with seeded.app_context(), pytest.raises(HelperError, match="helper stopped"):
        b"".join(export_cases({}, None, False, by=None))
    assert _finished(seeded).changes["result"][1] == "failed"


def test_a_helper_that_does_not_answer_in_time_is_killed_and_the_export_fails(seeded, monkeypatch):
    """Never a wait for ever: the download ends with an error, its end is on record as
    failed, and the silent helpers are gone."""
    monkeypatch.setattr(parts, "_help", helping.hangs)
    monkeypatch.setitem(seeded.config, "HUQUQ_EXPORT_HELPERS", 2)
    monkeypatch.setitem(seeded.config, "HUQUQ_EXPORT_PART_TIMEOUT", 0.5)
    with seeded.app_context():
        chunks = export_cases({}, None, False, by=None)
        assert next(chunks).startswith(b"\xef\xbb\xbfreference,")  # the header
        with pytest.raises(HelperError, match=r"sent no part for 0\.5 s"):
            next(chunks)
        assert _helpers_running() == []
    event = _finished(seeded)
    assert event.changes["result"][1] == "failed" and event.changes["rows"][1] == 0


def test_a_lock_another_thread_holds_does_not_reach_the_helpers(seeded, monkeypatch):
    """How exports hung in gunicorn's threaded workers: a helper forked while another thread
    held a lock (SQLite's, the allocator's) inherited it held, and waited for it for ever.
    Here a thread holds a lock the helpers' work needs while the export starts them; forked
    by the fork server, they never hold it, and the file is whole."""
    alone = _file(seeded, "plain")
    monkeypatch.setattr(parts, "_help", helping.locked_help)
    # A helper stuck on the lock fails the test.
    monkeypatch.setitem(seeded.config, "HUQUQ_EXPORT_PART_TIMEOUT", 20)
    taken, release = threading.Event(), threading.Event()

    def hold():
        with helping.LOCK:
            taken.set()
            release.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait()
    try:
        assert _file(seeded, "fast", 2) == alone
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
    before = _file(seeded, "plain")
    assert re.search(r",\d{4}-\d{2}-\d{2},", before)
    with seeded.app_context():
        database = db.engine.url.database
        alter = f'ALTER DATABASE "{database}"'
        db.session.execute(sa.text(f"{alter} SET DateStyle = 'German, DMY'"))
        db.session.commit()
        db.engine.dispose()  # the connections made from now on have it
    try:
        with seeded.app_context():
            shown = db.session.execute(sa.text("SELECT DATE '2026-11-30'::text")).scalar()
            assert shown == "30.11.2026"
            db.session.rollback()
        assert _file(seeded, "fast", 0) == before
        assert _file(seeded, "fast", 2) == before
    finally:
        with seeded.app_context():
            db.session.execute(sa.text(f"{alter} RESET DateStyle"))
            db.session.commit()
            db.engine.dispose()


def test_the_fork_server_runs_this_checkouts_engine_whatever_the_working_directory(
    tmp_path, monkeypatch
):
    """Started from a directory that holds another ``app`` (another checkout, say), the fork
    server still imports the engine the exporting process runs."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("raise ImportError('another app')\n")
    monkeypatch.chdir(tmp_path)
    server = helpers._Server()
    try:
        server.start((parts.__name__,), 20)
        assert server.pid() is not None
    finally:
        server._stop()
