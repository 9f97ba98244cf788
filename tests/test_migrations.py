"""The migrations build the schema the models describe, and take it down again."""

import json
import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

import app.models  # noqa: F401  all models in the metadata
from app.extensions import db
from tests.databases import BACKENDS, app_on_fresh_database


@pytest.fixture(params=BACKENDS)
def empty_app(request, tmp_path):
    with (
        app_on_fresh_database(request.param, tmp_path, "migrations", migrated=False) as app,
        app.app_context(),
    ):
        yield app


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_creates_every_model_table(empty_app):
    upgrade()
    assert _tables() == set(db.metadata.tables)


def test_models_and_migrations_have_not_drifted(empty_app):
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models differ from migrations: {differences}"


def test_downgrade_to_base_removes_everything_and_upgrade_works_again(empty_app):
    upgrade()
    downgrade(revision="base")
    assert _tables() == set()
    upgrade()
    assert _tables() == set(db.metadata.tables)


def test_existing_plaintext_rows_are_sealed_and_come_back_on_downgrade(empty_app):
    """0007 seals clients, summaries and notes that were kept in plaintext before it."""
    upgrade(revision="0006")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO clients (pseudonym, full_name, name_folded, citizenship, phone, born_on, "
                "created_at, updated_at) VALUES ('P-AAAA-BBBB', 'Худойбердиев Шерзод', "
                "'худойбердиев шерзод', 'UZ', '+998901234567', '1990-05-17', :t, :t)"
            ),
            {"t": "2025-01-01 00:00:00+00:00"},
        )
        client_id = connection.execute(sa.text("SELECT id FROM clients")).scalar()
        connection.execute(
            sa.text(
                "INSERT INTO cases (reference, client_id, case_type, opened_on, region, summary, "
                "created_at, updated_at) VALUES ('HQ-AAAA-BBBB', :c, 'other', '2025-01-02', 'Москва', "
                "'Задержан у метро', :t, :t)"
            ),
            {"c": client_id, "t": "2025-01-01 00:00:00+00:00"},
        )
    upgrade()
    from app.auth.models import User
    from app.clients.models import Client
    from app.clients.queries import clients_matching

    with db.engine.connect() as connection:
        raw = connection.execute(sa.text("SELECT full_name, phone FROM clients")).one()
    assert b"\xd0\xa5" not in bytes(raw[0]) and b"998" not in bytes(raw[1])
    client = db.session.execute(sa.select(Client)).scalar_one()
    assert (client.full_name, client.phone, str(client.born_on)) == (
        "Худойбердиев Шерзод",
        "+998901234567",
        "1990-05-17",
    )
    assert client.cases[0].summary == "Задержан у метро"
    assert clients_matching("Khudoyberdiev", User(email="a@example.org", role="admin")) == [client]
    db.session.remove()
    downgrade(revision="0006")
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT full_name, name_folded FROM clients")).one() == (
            "Худойбердиев Шерзод",
            "худойбердиев шерзод",
        )
        assert (
            connection.execute(sa.text("SELECT summary FROM cases")).scalar() == "Задержан у метро"
        )


SEALED_BY_0011 = {
    ("cases", "authority"): "Тверской районный суд, судья Кривошеева",
    ("cases", "offence_article"): "КоАП 18.8 (Ортикбоев)",
    ("cases", "school_name"): "Гимназия имени Шарафутдиновой",
    ("cases", "school_grade"): "3 «Ж» Зухриддина",
    ("deadlines", "title"): "Жалоба за Нуралиеву",
    ("deadlines", "legal_basis"): "по поручению Тошпулатовой",
    ("calendar_days", "note"): "перенос ради Мамаджановой",
}


def _plain_rows_at_0010(connection) -> dict:
    """A client with a case, a deadline, a calendar note and the audit trail's copies of them
    in clear, as 0010 kept them; and an erased client's case, whose texts cannot be sealed."""
    from app.crypto import keys, new_data_key, wrap

    stamp = {"t": "2025-01-01 00:00:00+00:00"}
    texts = {column: text for (_table, column), text in SEALED_BY_0011.items()}
    wrapped = wrap(new_data_key(), "clients.data_key.P-AAAA-BBBB", keys())
    for pseudonym, data_key in (("P-AAAA-BBBB", wrapped), ("P-CCCC-DDDD", None)):
        connection.execute(
            sa.text(
                "INSERT INTO clients (pseudonym, data_key, citizenship, created_at, updated_at) "
                "VALUES (:p, :k, 'UZ', :t, :t)"
            ),
            {"p": pseudonym, "k": data_key, **stamp},
        )
    ids = dict(connection.execute(sa.text("SELECT pseudonym, id FROM clients")).all())
    for reference, pseudonym in (("HQ-AAAA-BBBB", "P-AAAA-BBBB"), ("HQ-CCCC-DDDD", "P-CCCC-DDDD")):
        connection.execute(
            sa.text(
                "INSERT INTO cases (reference, client_id, case_type, opened_on, region, "
                "authority, offence_article, school_name, school_grade, version, created_at, "
                "updated_at) VALUES (:r, :c, 'other', '2025-01-02', 'Москва', :authority, "
                ":offence_article, :school_name, :school_grade, 1, :t, :t)"
            ),
            {"r": reference, "c": ids[pseudonym], **texts, **stamp},
        )
    case_ids = dict(connection.execute(sa.text("SELECT reference, id FROM cases")).all())
    case_id = case_ids["HQ-AAAA-BBBB"]
    connection.execute(
        sa.text(
            "INSERT INTO deadlines (case_id, due_on, title, legal_basis, status, is_extended, "
            "created_at) VALUES (:c, '2025-02-01', :title, :legal_basis, 'open', false, :t)"
        ),
        {"c": case_id, **texts, **stamp},
    )
    connection.execute(
        sa.text(
            "INSERT INTO calendar_days (day, is_working, note) VALUES ('2031-06-14', true, :n)"
        ),
        {"n": texts["note"]},
    )
    day_id = connection.execute(
        sa.text("SELECT id FROM calendar_days WHERE day = '2031-06-14'")
    ).scalar()
    events = [
        ("cases", case_id, case_id, {c: [None, texts[c]] for c in ("authority", "school_name")}),
        ("cases", case_ids["HQ-CCCC-DDDD"], case_ids["HQ-CCCC-DDDD"], {"authority": [None, "x"]}),
        ("deadlines", 1, case_id, {"title": [None, texts["title"]], "status": [None, "open"]}),
        (
            "calendar_days",
            day_id,
            None,
            {"day": [None, "2031-06-14"], "note": [None, texts["note"]]},
        ),
    ]
    for entity, entity_id, event_case_id, changes in events:
        connection.execute(
            sa.text(
                "INSERT INTO audit_events (occurred_at, via, action, entity, entity_id, case_id, "
                "changes) VALUES (:t, 'cli', 'insert', :e, :i, :c, :changes)"
            ),
            {
                "e": entity,
                "i": entity_id,
                "c": event_case_id,
                "changes": json.dumps(changes, ensure_ascii=False),
                **stamp,
            },
        )
    return case_ids


def _raw_texts(connection) -> dict:
    """The stored values of the texts above, as the database holds them."""
    rows = {
        "cases": "reference = 'HQ-AAAA-BBBB'",
        "deadlines": "id = (SELECT min(id) FROM deadlines)",
        "calendar_days": "day = '2031-06-14'",
    }
    return {
        (table, column): connection.execute(
            sa.text(f"SELECT {column} FROM {table} WHERE {rows[table]}")
        ).scalar_one()
        for table, column in SEALED_BY_0011
    }


def _audit_changes(connection) -> list[dict]:
    rows = connection.execute(sa.text("SELECT changes FROM audit_events ORDER BY id")).scalars()
    return [row if isinstance(row, dict) else json.loads(row) for row in rows]


def test_typed_case_texts_and_their_audit_copies_are_sealed_and_open_again_on_downgrade(
    empty_app,
):
    """0011 seals court, article, school, grade, deadline texts and calendar notes kept in
    clear before it, and the audit trail's copies of them; downgrading opens them again."""
    upgrade(revision="0010")
    with db.engine.begin() as connection:
        _plain_rows_at_0010(connection)
        plain_audit = _audit_changes(connection)
    upgrade()
    from app.audit.queries import shown_changes
    from app.cases.models import Case
    from app.deadlines.models import CalendarDay, Deadline

    with db.engine.connect() as connection:
        raw = _raw_texts(connection)
        audit = _audit_changes(connection)
        erased = connection.execute(
            sa.text("SELECT authority FROM cases WHERE reference = 'HQ-CCCC-DDDD'")
        ).scalar()
    for (table, column), text in SEALED_BY_0011.items():
        assert isinstance(raw[(table, column)], bytes | memoryview), (table, column)
        assert text.encode() not in bytes(raw[(table, column)])
    assert erased is None  # an erased client's case: nothing to seal it with, so erased
    flat = json.dumps(audit, ensure_ascii=False)
    assert all(text not in flat for text in SEALED_BY_0011.values())
    assert audit[0]["authority"][1].startswith("sealed:") and audit[1]["authority"] == [None, None]
    assert audit[2]["status"] == [None, "open"] and audit[3]["day"] == [None, "2031-06-14"]

    case = db.session.execute(sa.select(Case).where(Case.reference == "HQ-AAAA-BBBB")).scalar_one()
    deadline = db.session.execute(sa.select(Deadline)).scalar_one()
    day = db.session.execute(
        sa.select(CalendarDay).where(CalendarDay.day == date(2031, 6, 14))
    ).scalar_one()
    opened = {
        ("cases", c): getattr(case, c)
        for c in ("authority", "offence_article", "school_name", "school_grade")
    }
    opened |= {("deadlines", c): getattr(deadline, c) for c in ("title", "legal_basis")}
    opened[("calendar_days", "note")] = day.note
    assert opened == SEALED_BY_0011
    from app.audit.models import AuditEvent

    events = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    key = case.sealing_key()
    assert (
        shown_changes(events[0], key, case.reference)["school_name"][1]
        == (SEALED_BY_0011[("cases", "school_name")])
    )
    assert (
        shown_changes(events[2], key, case.reference)["title"][1]
        == (SEALED_BY_0011[("deadlines", "title")])
    )
    db.session.remove()
    if db.engine.dialect.name == "sqlite":  # nothing left in clear in free pages either
        db.engine.dispose()
        with sqlite3.connect(db.engine.url.database) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = Path(db.engine.url.database).read_bytes()
        assert all(text.encode() not in data for text in SEALED_BY_0011.values())

    downgrade(revision="0010")
    with db.engine.connect() as connection:
        assert _raw_texts(connection) == SEALED_BY_0011
        assert (
            _audit_changes(connection)
            == [
                plain_audit[0],
                {"authority": [None, None]},  # erased before 0011 could seal it
                *plain_audit[2:],
            ]
        )


def test_hearing_time_and_place_come_and_go_with_their_migration(empty_app):
    """0017 adds a hearing's time, court and room; going down drops them and keeps the hearing
    and its note."""
    from datetime import time

    from app.cases.services import add_timeline_entry, open_case
    from app.clients.services import create_client

    upgrade()
    client = create_client({"full_name": "Усмонов Бахтиёр", "citizenship": "UZ"}, by=None)
    case = open_case(
        client, {"case_type": "other", "opened_on": date(2026, 3, 1), "region": "М"}, None
    )
    entry = add_timeline_entry(
        case,
        "hearing",
        date(2026, 3, 20),
        "Заседание",
        None,
        hearing_time=time(9, 45),
        court="Тверской районный суд",
        room="512",
    )
    db.session.commit()
    raw = db.session.execute(sa.text("SELECT court FROM timeline_entries")).scalar_one()
    assert "Тверской".encode() not in bytes(raw)
    entry_id = entry.id
    db.session.remove()
    downgrade(revision="0016")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("timeline_entries")}
    assert not columns & {"hearing_time", "court", "room"}
    with db.engine.connect() as connection:
        kinds = connection.execute(sa.text("SELECT id, kind FROM timeline_entries")).all()
    assert (entry_id, "hearing") in [tuple(k) for k in kinds]
    upgrade()
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("timeline_entries")}
    assert {"hearing_time", "court", "room"} <= columns


def test_0016_seeds_the_koap_rule_before_and_after_364_fz_and_leaves_the_calendar_to_the_library(
    empty_app,
):
    """0016: the hand-kept fixed holidays go (the library has them); the ten-day appeal becomes
    two rules, ten сутки before 29.10.2024 and ten days from it; a school claim counts from the
    day the refusal became known. Downgrading gives the older schema its rows back."""
    upgrade(revision="0014")

    def rules(connection):
        return connection.execute(
            sa.text("SELECT case_type, trigger, unit FROM deadline_rules ORDER BY id")
        ).all()

    with db.engine.connect() as connection:
        before = rules(connection)
        seeded = connection.execute(sa.text("SELECT count(*) FROM calendar_days")).scalar()
    assert seeded == 14 * 8
    upgrade()
    with db.engine.connect() as connection:
        after = connection.execute(
            sa.text(
                "SELECT unit, valid_from, valid_to, legal_basis FROM deadline_rules "
                "WHERE case_type = 'deportation_challenge' ORDER BY id"
            )
        ).all()
        assert connection.execute(sa.text("SELECT count(*) FROM calendar_days")).scalar() == 0
        assert ("school_refusal", "decision_learned_on", "months") in rules(connection)
    assert [(unit, str(start), str(end)) for unit, start, end, _basis in after] == [
        ("days", "2024-10-29", "None"),
        ("sutki", "None", "2024-10-28"),
    ]
    assert all("364-ФЗ" in basis and "proc.govnewsrf.ru" in basis for *_rest, basis in after)
    downgrade(revision="0014")
    with db.engine.connect() as connection:
        assert rules(connection) == before
        assert connection.execute(sa.text("SELECT count(*) FROM calendar_days")).scalar() == 112


def test_0018_keeps_what_calendar_the_deadlines_were_counted_with(empty_app):
    """0018 adds ``settings.calendar_counted``, empty, so that the first housekeeping counts
    the open deadlines with the installed library; going down drops it, keeping the settings."""
    upgrade(revision="0017")
    with db.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO settings (id, retention_days) VALUES (1, 30)"))
    upgrade(revision="0018")
    with db.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT retention_days, calendar_counted FROM settings"))
        assert tuple(row.one()) == (30, None)
    downgrade(revision="0017")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("settings")}
    assert "calendar_counted" not in columns and "retention_days" in columns


def test_no_migration_imports_the_app():
    """A migration copies the few functions it needs: a later change to the app must not change
    what an old migration does (migrations/env.py, which wires Alembic to the app, may)."""
    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    importing = [
        f"{path.name}:{number}"
        for path in sorted(versions.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(r"\s*(from app(\.| )|import app\b)", line)
    ]
    assert importing == []
