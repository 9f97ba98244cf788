"""`flask backup` and `flask restore`: every row comes back."""

import os
import stat

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


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_is_readable_by_its_owner_only(backend, tmp_path):
    """It holds the password hashes and sessions: 0600 whatever the umask, an older readable
    backup replaced, and a symlink planted where it goes (or where its partial file went)
    replaced, never written through."""
    with app_on_fresh_database(backend, tmp_path, "modes") as app:
        runner = app.test_cli_runner()
        elsewhere = tmp_path / "someone-elses"
        elsewhere.write_text("untouched")
        older = tmp_path / "older.backup"
        older.write_text("an older backup")
        older.chmod(0o644)
        planted = tmp_path / "planted.backup"
        planted.symlink_to(elsewhere)
        (tmp_path / ".planted.backup.partial").symlink_to(elsewhere)  # the old fixed name
        mask = os.umask(0o022)
        try:
            for target in (tmp_path / "new.backup", older, planted):
                result = runner.invoke(args=["backup", str(target)])
                assert result.exit_code == 0, result.output
                assert not target.is_symlink()
                assert stat.S_IMODE(target.stat().st_mode) == 0o600, target
                assert target.stat().st_size > 1000
        finally:
            os.umask(mask)
        assert elsewhere.read_text() == "untouched"
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")]
        assert leftovers == [".planted.backup.partial"]  # only the planted link, left alone


def test_restore_refuses_a_missing_file(tmp_path):
    with app_on_fresh_database("sqlite", tmp_path, "missing") as app:
        result = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "nope"), "--yes"])
        assert result.exit_code != 0
