"""Backups of the database: SQLite's online backup API (consistent while the app runs), or
pg_dump/pg_restore for PostgreSQL. The identifying data in a backup stays sealed: it opens only
with the keys, which are not in it."""

import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from app.files import private_file


def _pg_args(url: URL) -> list[str]:
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432)]
    if url.username:
        args += ["-U", url.username]
    return args


def _pg_env(url: URL) -> dict:
    return {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}


def backup(database_url: str, target: Path) -> None:
    """Write a consistent copy of the database to ``target``: owner-only (it holds password
    hashes and sessions), replaced whole at the end."""
    url = make_url(database_url)
    with private_file(target) as partial:
        if url.get_backend_name() == "sqlite":
            # Into the empty 0600 file: SQLite keeps its mode, and its journal's.
            source, copy = sqlite3.connect(url.database), sqlite3.connect(partial)
            with closing(source), closing(copy):
                source.backup(copy)
        else:
            subprocess.run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--file",
                    str(partial),
                    *_pg_args(url),
                    url.database,
                ],
                check=True,
                capture_output=True,
                env=_pg_env(url),
            )


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with the backup's."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(source) as backup_db, sqlite3.connect(url.database) as live:
            backup_db.backup(live)
    else:
        subprocess.run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
                url.database,
                *_pg_args(url),
                str(source),
            ],
            check=True,
            capture_output=True,
            env=_pg_env(url),
        )
