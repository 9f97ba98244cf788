"""A long export read in parts by helper processes: the same file one process writes, on a
database of its own (helpers have their own connections and see only what is committed)."""

import multiprocessing
import os
import re

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.crypto import KeyError_
from app.database import begin_reading
from app.exports import parts
from app.exports.services import export_cases
from app.extensions import db
from tests.databases import app_on_fresh_database

CASES = 300
PART_IDS = 37  # nine parts


@pytest.fixture
def seeded(backend, tmp_path):
    with app_on_fresh_database(backend, tmp_path, "parts") as app:
        result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", str(CASES)])
        assert result.exit_code == 0, result.output
        app.config["HUQUQ_EXPORT_PART_IDS"] = PART_IDS
        yield app
        assert not multiprocessing.active_children()  # every helper is gone afterwards


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
        event = db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "export")
        ).scalar_one()
    assert sent == PART_IDS
    assert event.changes["complete"][1] is False and event.changes["rows"][1] == sent


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
    monkeypatch.setattr(parts, "connect", lambda target: os._exit(3))  # in the helper only
    seeded.config["HUQUQ_EXPORT_HELPERS"] = 2
    with seeded.app_context(), pytest.raises(RuntimeError, match="helper stopped"):
        b"".join(export_cases({}, None, False, by=None))


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
