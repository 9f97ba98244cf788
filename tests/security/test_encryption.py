"""A seized database holds no names, phones or document numbers in readable form; the right
keys open them; the wrong keys do not start the app."""

import base64
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import create_app
from app.cases.services import add_timeline_entry, open_case
from app.clients.models import Client
from app.clients.services import create_client
from app.crypto import Keys
from app.extensions import db
from config import TestConfig
from tests.databases import BACKENDS, app_on_fresh_database

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
