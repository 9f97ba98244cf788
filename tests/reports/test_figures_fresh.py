"""The dashboard remembers its figures between views, and never shows them without a change
that was committed before the view: not even a change made in a slow transaction that began
(and took its audit event's id) before a quicker one that committed first.

On a database of its own, with real commits: each transaction below is a session of its own
on a connection of its own; the slow one runs in a thread of its own, as in another worker."""

import re
import threading
from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.audit.models import DataVersion
from app.audit.queries import forget_figures
from app.audit.services import FIGURE_TABLES
from app.auth.models import User
from app.cases.models import Case
from app.cases.services import add_timeline_entry, close_case
from app.extensions import db
from app.reports.queries import (
    GROUPINGS,
    Filters,
    Period,
    open_case_ages,
    outcome_counts,
    quarterly,
)
from tests.databases import app_on_fresh_database
from tests.factories import Factories
from tests.helpers import login

_TABLE = re.compile(r'\b(?:FROM|JOIN)\s+("?\w+"?)', re.IGNORECASE)


@pytest.fixture
def fresh(backend, tmp_path):
    with app_on_fresh_database(backend, tmp_path, "figures") as app:
        make = Factories(app)
        coordinator = make.user("coordinator")
        cases = [make.case(by=coordinator).id for _ in range(3)]
        client = app.test_client()
        login(client, coordinator)
        yield app, client, coordinator, cases


@contextmanager
def transaction(app):
    """A transaction of its own, committed when the block ends."""
    with app.app_context():
        yield db.session
        db.session.commit()


@contextmanager
def held_open(app, work):
    """``work`` done in a transaction of its own, in another thread, and held open (not
    committed) until the block ends; then committed."""
    done, commit, failed = threading.Event(), threading.Event(), []

    def run():
        try:
            with app.app_context():
                work(db.session)
                done.set()
                commit.wait(60)
                db.session.commit()
        except BaseException as error:  # handed to the test below
            failed.append(error)
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    done.wait(60)
    try:
        assert not failed, failed
        yield
    finally:
        commit.set()
        thread.join(60)
    assert not failed, failed


def _decided_in(client, quarter: str) -> int:
    """The dashboard's "Decided" figure for the quarter, as the quarter table shows it."""
    page = client.get("/dashboard")
    assert page.status_code == 200
    found = re.search(rf"<tr><td>{quarter}</td><td>\d+</td><td>(\d+)</td>", page.text)
    return int(found.group(1)) if found else 0


def _close(session, case_id: int, outcome: str, by, on=date(2025, 5, 5)) -> None:
    close_case(session.get(Case, case_id), outcome, on, by=session.get(User, by.id))
    session.flush()  # its audit event is written, and has its id, now


def test_a_slow_change_committed_after_a_view_is_in_the_next_view(fresh, backend):
    app, client, by, (slow, quick, _) = fresh
    assert _decided_in(client, "2025 Q2") == 0
    # The older audit event id, still uncommitted:
    with held_open(app, lambda session: _close(session, slow, "success", by)):
        if backend == "postgresql":  # (on SQLite the second writer waits for the first)
            with transaction(app) as t2:
                _close(t2, quick, "failure", by)  # a newer id, committed first
            assert _decided_in(client, "2025 Q2") == 1  # remembered without the slow change
        else:
            assert _decided_in(client, "2025 Q2") == 0
    # The slow transaction has committed: the next view counts it.
    assert _decided_in(client, "2025 Q2") == (2 if backend == "postgresql" else 1)


def test_figures_are_remembered_while_nothing_they_count_changes(fresh):
    """A note changes no figure: the figures stay remembered (the data version is the same),
    and a change to a case is seen at once."""
    app, client, by, (first, *_) = fresh
    assert _decided_in(client, "2025 Q2") == 0
    with app.app_context():
        before = db.session.get(DataVersion, 1).version
    with transaction(app) as session:
        case = session.get(Case, first)
        add_timeline_entry(
            case, "note", date(2025, 4, 1), "Позвонил клиенту", session.get(User, by.id)
        )
    with app.app_context():
        assert db.session.get(DataVersion, 1).version == before
    with transaction(app) as session:
        _close(session, first, "success", by)
    with app.app_context():
        assert db.session.get(DataVersion, 1).version == before + 1
    assert _decided_in(client, "2025 Q2") == 1


def test_a_rolled_back_change_leaves_the_version_alone(fresh):
    app, client, by, (first, *_) = fresh
    with app.app_context():
        before = db.session.get(DataVersion, 1).version
        _close(db.session, first, "success", by)
        db.session.rollback()
        assert db.session.execute(sa.select(DataVersion.version)).scalar_one() == before
    assert _decided_in(client, "2025 Q2") == 0


def test_the_remembered_figures_read_only_the_tables_that_count_the_version_up(ctx, make):
    """Were a remembered figure to read a table whose changes leave the version alone (notes,
    deadlines), it could go stale: every table they read is one of FIGURE_TABLES."""
    volunteer = make.user("volunteer")
    make.case(by=volunteer, outcome="success", closed_on=date(2025, 5, 5))
    assert not volunteer.is_coordinator  # (its row loaded now, not while listening)
    forget_figures()
    read: set[str] = set()

    def seen(conn, cursor, statement, *_):
        read.update(name.strip('"') for name in _TABLE.findall(statement))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        period = Period(date(2025, 1, 1), date(2025, 12, 31))
        for filters in (Filters(), Filters(citizenship="TJ", visible_to=volunteer)):
            for group_by in GROUPINGS:
                outcome_counts(period, filters, group_by)
            quarterly(period, filters)
            open_case_ages(period, filters, date(2026, 1, 1))
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert read and read <= FIGURE_TABLES | {"data_version"}
