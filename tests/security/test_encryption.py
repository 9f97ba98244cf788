"""A seized database holds no names, phones or document numbers in readable form; the right
keys open them; the wrong keys do not start the app."""

import base64
import html
import json
import sqlite3
import subprocess
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import create_app
from app.audit.models import AuditEvent
from app.auth.services import create_user
from app.cases.services import add_timeline_entry, open_case
from app.clients.models import Client
from app.clients.services import create_client
from app.crypto import Keys
from app.dates import today
from app.extensions import db
from config import TestConfig
from tests.databases import BACKENDS, app_on_fresh_database
from tests.factories import PASSWORD
from tests.helpers import login, submit

PEOPLE = [
    {
        "full_name": "Худойбердиев Шерзод Рустамович",
        "phone": "+998901234567",
        "document_number": "AB7654321",
        "messenger": "Telegram @sherzod_kh",
        "notes": "Живёт у Сайёры Турсуновой",
        "safe_contact": "звонить через брата Бахтиёра",
    },
    {"full_name": "Рахмонова Нигина", "phone": "+992927770011", "document_number": "P4455667"},
]
SECRETS = [
    "Худойбердиев",
    "Шерзод",
    "Рустамович",
    "998901234567",
    "901234567",
    "AB7654321",
    "sherzod_kh",
    "Сайёры",
    "Бахтиёра",
    "Рахмонова",
    "Нигина",
    "992927770011",
    "P4455667",
    "Шералиев",  # in a case summary
    "Турсунов",  # in a timeline note
]


def _fill(app) -> None:
    with app.app_context():
        for person in PEOPLE:
            client = create_client({**person, "citizenship": "UZ"}, by=None)
            case = open_case(
                client,
                {
                    "case_type": "deportation_challenge",
                    "opened_on": date(2025, 3, 3),
                    "region": "Москва",
                    "summary": "Вместе с Шералиевым задержан у метро",
                },
                by=None,
            )
            add_timeline_entry(case, "note", case.opened_on, "Звонил Турсунов", by=None)
        db.session.commit()


def _dump(app, backend: str) -> bytes:
    with app.app_context():
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        if backend == "sqlite":
            db.session.remove()
            db.engine.dispose()
            with sqlite3.connect(url.database) as connection:  # the WAL folded into the file
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return Path(url.database).read_bytes()
        result = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "-h",
                url.host or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                url.username or "postgres",
                url.database,
            ],
            check=True,
            capture_output=True,
        )
        return result.stdout


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_raw_database_holds_no_identifier(backend, tmp_path):
    with app_on_fresh_database(backend, tmp_path, "seized") as app:
        _fill(app)
        raw = _dump(app, backend)
        assert len(raw) > 10_000
        for secret in SECRETS:
            for form in {secret, secret.lower(), secret.upper()}:
                assert form.encode("utf-8") not in raw, f"{form!r} readable in the database"
                assert form.encode("utf-16-le") not in raw
        # …and yet the app reads them, and finds them by name in another spelling.
        with app.app_context():
            names = sorted(c.full_name for c in db.session.execute(sa.select(Client)).scalars())
            assert names == ["Рахмонова Нигина", "Худойбердиев Шерзод Рустамович"]


def test_a_wrong_key_refuses_to_start(tmp_path, monkeypatch):
    with app_on_fresh_database("sqlite", tmp_path, "keyed") as app:
        _fill(app)
        url = app.config["SQLALCHEMY_DATABASE_URI"]
    other = Keys.generate()
    config = TestConfig(url, tmp_path)
    config.HUQUQ_MASTER_KEY, config.HUQUQ_INDEX_KEY = (
        base64.urlsafe_b64encode(k).decode() for k in (other.master, other.index)
    )
    with pytest.raises(SystemExit) as refused:
        create_app(config)
    assert "will not start" in str(refused.value) and "master key" in str(refused.value)
    # The right key file still works.
    create_app(TestConfig(url, tmp_path))


# Typed about cases, through the forms: none of it may be readable in the database.
TYPED = {
    "authority": "Тверской районный суд, судья Кривошеева",
    "offence_article": "КоАП 18.8 ч. 3.1 (Ортикбоев)",
    "school_name": "Гимназия имени Шарафутдиновой",
    "school_grade": "3 «Ж» класс Зухриддина",
    "title": "Жалоба за Нуралиеву",
    "legal_basis": "по поручению Тошпулатовой",
    "note": "перенос ради Мамаджановой",
}
TYPED_SECRETS = [
    "Кривошеев",
    "Ортикбоев",
    "Шарафутдинов",
    "Зухриддин",
    "Нуралиев",
    "Тошпулатов",
    "Мамаджанов",
]


def _case_from_intake(client, case_fields: dict) -> str:
    response = submit(
        client,
        "/cases/new",
        {
            "client-full_name": "Каримов Далер",
            "client-citizenship": "TJ",
            "client-different_person": "y",
            "case-opened_on": "2025-03-03",
            "case-region": "Москва",
            **{f"case-{k}": v for k, v in case_fields.items()},
        },
    )
    assert response.status_code == 302, response.status_code
    return response.location.rsplit("/", 1)[-1]


def _readable(raw: bytes) -> list[str]:
    return [
        form
        for secret in TYPED_SECRETS
        for form in {secret, secret.lower(), secret.upper()}
        if form.encode("utf-8") in raw or form.encode("utf-16-le") in raw
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_what_people_type_about_a_case_is_sealed_in_the_database(backend, tmp_path):
    """Court, article, school, grade, a deadline's title and legal basis and a calendar note,
    saved through the forms: the pages show them, the database file, its WAL and the audit
    trail do not hold them in any readable form."""
    with app_on_fresh_database(backend, tmp_path, "typed") as app:
        with app.app_context():
            create_user("admin@example.org", "admin", PASSWORD, by=None)
            db.session.commit()
        web = app.test_client()
        login(web, SimpleNamespace(email="admin@example.org"))
        school = _case_from_intake(
            web,
            {
                "case_type": "school_refusal",
                "authority": TYPED["authority"],
                "school_name": TYPED["school_name"],
                "school_grade": TYPED["school_grade"],
                "refusal_on": "2025-03-01",
            },
        )
        deportation = _case_from_intake(
            web,
            {
                "case_type": "deportation_challenge",
                "authority": TYPED["authority"],
                "offence_article": TYPED["offence_article"],
            },
        )
        due_on = today() + timedelta(days=5)
        added = submit(
            web,
            f"/cases/{deportation}",
            {
                "title": TYPED["title"],
                "due_on": due_on.isoformat(),
                "legal_basis": TYPED["legal_basis"],
            },
            action=f"/cases/{deportation}/deadlines",
        )
        assert added.status_code == 302
        day = date(2031, 6, 14)  # a Saturday made a working day
        noted = submit(
            web,
            "/admin/calendar",
            {"day": day.isoformat(), "kind": "working", "note": TYPED["note"]},
        )
        assert noted.status_code == 302

        pages = {
            "school": web.get(f"/cases/{school}").text,
            "deportation": web.get(f"/cases/{deportation}").text,
            "school form": web.get(f"/cases/{school}/edit").text,
            "deadlines": web.get("/deadlines").text,
            "calendar": web.get("/admin/calendar?year=2031").text,
        }
        for field in ("authority", "school_name", "school_grade"):
            assert html.escape(TYPED[field]) in pages["school"], field
            assert html.escape(TYPED[field]) in pages["school form"], field
        for field in ("authority", "offence_article", "title", "legal_basis"):
            # the page itself, and its history (the audit trail's sealed copies opened)
            assert pages["deportation"].count(html.escape(TYPED[field])) >= 2, field
        assert html.escape(TYPED["title"]) in pages["deadlines"]
        assert html.escape(TYPED["note"]) in pages["calendar"]

        with app.app_context():
            copies = json.dumps(
                [e.changes for e in db.session.execute(sa.select(AuditEvent)).scalars()],
                ensure_ascii=False,
            )
        assert _readable(copies.encode()) == []
        if backend == "sqlite":
            path = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)
            wal = path.with_name(path.name + "-wal")
            assert wal.stat().st_size > 0  # what was written is still in the WAL
            assert _readable(path.read_bytes()) == [] and _readable(wal.read_bytes()) == []
        raw = _dump(app, backend)
        assert _readable(raw) == []
