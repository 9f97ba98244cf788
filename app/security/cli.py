import sqlite3
import subprocess
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from app import dates, models_base
from app.auth.housekeeping import tidy
from app.cases.workdays import CALENDAR_SOURCE
from app.crypto import Keys, write_key_file
from app.extensions import db
from app.security.backup import backup, restore
from app.security.services import rotate_keys, run_retention

keys_cli = AppGroup("keys", help="The encryption keys.")
retention_cli = AppGroup("retention", help="Erasing identifying data after the retention time.")


@keys_cli.command("rotate")
def rotate_command() -> None:
    """New master and index keys: every client's data key is re-wrapped and the search index
    rebuilt, in one transaction; then the new keys are stored."""
    new = Keys.generate()
    from_environment = bool(current_app.config.get("HUQUQ_MASTER_KEY"))
    target = Path(current_app.config["HUQUQ_KEY_FILE"])
    # The new keys are on disk before the database depends on them, and the old ones stay
    # until it does: no moment when the data is sealed under keys nobody has.
    pending = target.with_name(target.name + ".new")
    write_key_file(pending, new)
    try:
        done = rotate_keys(new)
        db.session.commit()
    except Exception:
        db.session.rollback()
        pending.unlink(missing_ok=True)
        raise
    current_app.extensions["huquq_keys"] = new
    if from_environment:
        click.echo(
            f"Rotated {done} clients. The keys come from the environment: set HUQUQ_MASTER_KEY "
            f"and HUQUQ_INDEX_KEY to the values in {pending} (then delete that file)."
        )
        return
    pending.replace(target)
    click.echo(
        f"Rotated {done} clients; the new keys are in {target}. The old keys no longer "
        "open this database: remove any copy of the old key file."
    )


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Say how many clients would be erased.")
def retention_command(dry_run: bool) -> None:
    """Erase the identifying data the retention rule says is no longer to be kept; delete
    ended and expired sessions, old login failures and import files not applied (e.g.
    nightly)."""
    count = run_retention(dates.today(), by=None, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
        if count is None:
            click.echo("Retention is off: an admin sets it on the retention page.")
        else:
            click.echo(f"Dry run: {count} clients would have their identifying data erased.")
        return
    if count is None:
        db.session.rollback()
    else:
        db.session.commit()
    tidied = tidy(models_base.utcnow())
    db.session.commit()
    if count is None:
        click.echo("Retention is off: an admin sets it on the retention page.")
    else:
        click.echo(f"Erased the identifying data of {count} clients.")
    click.echo(
        f"Deleted {tidied['sessions']} ended or expired sessions and "
        f"{tidied['login failures']} login failures older than a day."
    )
    click.echo(f"Erased {tidied['import uploads']} import files not applied.")
    if tidied.get("deadline recounts"):
        click.echo(f"Open deadlines ahead counted again with {CALENDAR_SOURCE}.")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """A consistent copy of the database, taken while the app runs."""
    db.session.remove()
    try:
        backup(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
    except (OSError, subprocess.CalledProcessError, sqlite3.Error) as error:
        raise click.ClickException(f"backup failed: {_why(error)}") from None
    click.echo(
        f"Backed up to {path}. Names in it are sealed: keep the keys "
        f"({current_app.config['HUQUQ_KEY_FILE']}) somewhere else."
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask: the database is replaced.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database with a backup (stop the app first)."""
    if not yes:
        click.confirm(f"Replace everything in the database with {path}?", abort=True)
    db.session.remove()
    db.engine.dispose()
    try:
        restore(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
    except (OSError, subprocess.CalledProcessError, sqlite3.Error) as error:
        raise click.ClickException(f"restore failed: {_why(error)}") from None
    click.echo(f"Restored from {path}.")


def _why(error: Exception) -> str:
    stderr = getattr(error, "stderr", None)
    return stderr.decode(errors="replace").strip() if stderr else str(error)
