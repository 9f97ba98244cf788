"""Fresh, empty databases for tests: a SQLite file, or a PostgreSQL database of its own."""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from config import TestConfig

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


@contextmanager
def app_on_fresh_database(backend: str, folder: Path, name: str, migrated: bool = True):
    """An app on a new database of its own (migrated to head unless ``migrated`` is False);
    its connections are closed afterwards."""
    app = create_app(TestConfig(fresh_database(backend, folder, name), folder))
    if migrated:
        with app.app_context():
            upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
