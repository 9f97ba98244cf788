"""Fresh databases for tests: a SQLite file, or a PostgreSQL database of its own. A migrated
one is a copy of a template migrated to head once per process (per pytest-xdist worker), with
the template's key file: the migrations sealed the settings and wrote the key check with it."""

import atexit
import os
import shutil
import sqlite3
import tempfile
from contextlib import closing, contextmanager
from pathlib import Path
from typing import NamedTuple

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from config import TestConfig

BACKENDS = ("sqlite", "postgresql")
PG_URL = os.environ.get("TEST_DATABASE_URL")
# Under pytest-xdist each worker (gw0, gw1, …) makes databases of its own: two workers asking
# for "app" get huquq_gw0_app and huquq_gw1_app, never one dropping the other's.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


class Template(NamedTuple):
    url: str  # a database migrated to head, never opened again but to be copied
    keys: Path  # the key file it was migrated with


_templates: dict[str, Template] = {}


def fresh_database(backend: str, folder: Path, name: str, template: str | None = None) -> str:
    """The URL of a new database called ``name``: empty, or a copy of the database at
    ``template`` (skips PostgreSQL without a server)."""
    if backend == "sqlite":
        path = folder / (name + ".sqlite3")
        if template:
            # Made with the mode the app gives a new database file, then filled page by page.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            source = make_url(template).database
            with closing(sqlite3.connect(source)) as old, closing(sqlite3.connect(path)) as new:
                old.backup(new)
        return f"sqlite:///{path}"
    if not PG_URL:
        pytest.skip("PostgreSQL half skipped: TEST_DATABASE_URL is not set")
    server = make_url(PG_URL)
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    database = "_".join(filter(None, (server.database, WORKER, name)))
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    with _maintenance(server) as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"{copy}')
    return server.set(database=database).render_as_string(hide_password=False)


@contextmanager
def _maintenance(server):
    """A connection that may create and drop databases: to the server's ``postgres`` database,
    so that TEST_DATABASE_URL may name one that does not exist yet (its name is only the
    prefix of the tests' own), else to the one it names."""
    for name in ("postgres", server.database):
        engine = sa.create_engine(server.set(database=name), isolation_level="AUTOCOMMIT")
        try:
            conn = engine.connect()
        except sa.exc.OperationalError:
            engine.dispose()
            continue
        try:
            yield conn
        finally:
            conn.close()
            engine.dispose()
        return
    raise RuntimeError(f"no database to connect to on {server.host}:{server.port}")


def migrated_template(backend: str) -> Template:
    """This process's template for ``backend``, migrated to head on first use."""
    if backend not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="huquq-template-"))
        atexit.register(shutil.rmtree, folder, True)
        with app_on_fresh_database(backend, folder, "template", copied=False) as app:
            url = app.config["SQLALCHEMY_DATABASE_URI"]
        _templates[backend] = Template(url, folder / "huquq.keys")
    return _templates[backend]


@contextmanager
def app_on_fresh_database(
    backend: str, folder: Path, name: str, migrated: bool = True, copied: bool = True
):
    """An app on a new database of its own, migrated to head unless ``migrated`` is False:
    a copy of the migrated template, with its key file, unless ``copied`` is False or
    ``folder`` already holds other keys (then the migrations run here). Its connections are
    closed afterwards."""
    template = migrated_template(backend) if migrated and copied else None
    keys = folder / "huquq.keys"
    if template and keys.exists() and keys.read_bytes() != template.keys.read_bytes():
        template = None
    if template:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not keys.exists():
            shutil.copy2(template.keys, keys)  # the key file's mode (600) too
    url = fresh_database(backend, folder, name, template.url if template else None)
    app = create_app(TestConfig(url, folder))
    if migrated and not template:
        with app.app_context():
            upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
