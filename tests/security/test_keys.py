"""`flask keys rotate`: everything under new keys; the old key file no longer opens the data."""

import shutil
from datetime import date

import pytest
import sqlalchemy as sa

from app import create_app
from app.cases.services import open_case
from app.clients.models import Client
from app.clients.services import create_client
from app.deadlines.models import CalendarDay
from app.deadlines.services import add_calendar_day
from app.extensions import db
from config import TestConfig
from tests.databases import app_on_fresh_database


def test_rotation_keeps_everything_readable_and_findable(tmp_path):
    with app_on_fresh_database("sqlite", tmp_path, "rotate") as app:
        with app.app_context():
            person = create_client(
                {"full_name": "Худойбердиев Шерзод", "citizenship": "UZ", "phone": "+998901234567"},
                by=None,
            )
            open_case(
                person,
                {
                    "case_type": "school_refusal",
                    "opened_on": date(2025, 3, 3),
                    "region": "Казань",
                    "school_name": "Школа № 12",
                },
                by=None,
            )
            add_calendar_day(date(2031, 6, 14), True, "перенос", by=None)
            db.session.commit()
        key_file = tmp_path / "huquq.keys"
        shutil.copy(key_file, tmp_path / "old.keys")
        result = app.test_cli_runner().invoke(args=["keys", "rotate"])
        assert result.exit_code == 0 and "Rotated 1 clients" in result.output
        assert key_file.read_bytes() != (tmp_path / "old.keys").read_bytes()
        url = app.config["SQLALCHEMY_DATABASE_URI"]
    fresh = create_app(TestConfig(url, tmp_path))  # starts with the new key file
    with fresh.app_context():
        client = db.session.execute(sa.select(Client)).scalar_one()
        assert client.full_name == "Худойбердиев Шерзод"
        from app.auth.models import User
        from app.clients.queries import clients_matching

        nobody = User(email="x@example.org", role="admin")
        assert [c.id for c in clients_matching("Khudoyberdiev", nobody)] == [client.id]
        assert [c.id for c in clients_matching("90 123 45 67", nobody)] == [client.id]
        assert client.cases[0].school_name == "Школа № 12"
        # The organisation's key, which seals calendar notes, was re-wrapped too.
        day = db.session.execute(
            sa.select(CalendarDay).where(CalendarDay.day == date(2031, 6, 14))
        ).scalar_one()
        assert day.note == "перенос"
    shutil.copy(tmp_path / "old.keys", key_file)
    with pytest.raises(SystemExit):
        create_app(TestConfig(url, tmp_path))


def test_starting_writes_nothing_and_the_first_request_records_the_keys(tmp_path):
    """create_app only builds an app: a database without the keys' check row (``db upgrade``
    writes it) gets it at the first request, and from then on another key file is refused at
    the start."""
    with app_on_fresh_database("sqlite", tmp_path, "started") as app:
        url = app.config["SQLALCHEMY_DATABASE_URI"]
    before = sa.create_engine(url)
    with before.begin() as connection:
        connection.exec_driver_sql("DELETE FROM key_check")
    started = create_app(TestConfig(url, tmp_path))
    with before.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM key_check").scalar() == 0
    assert started.test_client().get("/healthz").status_code == 200
    with before.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM key_check").scalar() == 1
    before.dispose()
    (tmp_path / "huquq.keys").unlink()  # a new key file is made: not this database's
    with pytest.raises(SystemExit):
        create_app(TestConfig(url, tmp_path))
