"""`flask backup` and `flask restore`: every row comes back."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.databases import BACKENDS, app_on_fresh_database


def _everything() -> dict:
    return {
        table.name: db.session.execute(sa.select(table).order_by(*table.primary_key)).all()
        for table in db.metadata.sorted_tables
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_then_restore_gives_back_every_row(backend, tmp_path):
    with app_on_fresh_database(backend, tmp_path, "backup") as app:
        runner = app.test_cli_runner()
        assert runner.invoke(args=["demo", "seed", "--cases", "200", "--seed", "4"]).exit_code == 0
        with app.app_context():
            before = _everything()
            db.session.remove()
        target = tmp_path / "huquq.backup"
        result = runner.invoke(args=["backup", str(target)])
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 10_000 and "keep the keys" in result.output
        # Things change after the backup…
        assert runner.invoke(args=["demo", "seed", "--cases", "50", "--seed", "5"]).exit_code == 0
        with app.app_context():
            assert _everything() != before
            db.session.remove()
        # …and the backup puts back exactly what there was.
        result = runner.invoke(args=["restore", str(target), "--yes"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            assert _everything() == before
            from app.clients.models import Client

            client = db.session.execute(sa.select(Client).limit(1)).scalar_one()
            assert client.full_name  # sealed data opens with the same keys


def test_restore_refuses_a_missing_file(tmp_path):
    with app_on_fresh_database("sqlite", tmp_path, "missing") as app:
        result = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "nope"), "--yes"])
        assert result.exit_code != 0
