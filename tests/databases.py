"""Fresh, empty databases for tests: a SQLite file, or a PostgreSQL database of its own."""

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

BACKENDS = ("sqlite", "postgresql")
PG_URL = os.environ.get("TEST_DATABASE_URL")


def fresh_database(backend: str, folder: Path, name: str) -> str:
    """The URL of a new empty database called ``name`` (skips PostgreSQL without a server)."""
    if backend == "sqlite":
        return f"sqlite:///{folder / (name + '.sqlite3')}"
    if not PG_URL:
        pytest.skip("PostgreSQL half skipped: TEST_DATABASE_URL is not set")
    server = make_url(PG_URL)
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    database = f"{server.database}_{name}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    engine.dispose()
    return server.set(database=database).render_as_string(hide_password=False)
