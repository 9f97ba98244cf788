"""The migrations build the schema the models describe, and take it down again."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

import app.models  # noqa: F401  all models in the metadata
from app.extensions import db
from tests.databases import BACKENDS, app_on_fresh_database


@pytest.fixture(params=BACKENDS)
def empty_app(request, tmp_path):
    with (
        app_on_fresh_database(request.param, tmp_path, "migrations", migrated=False) as app,
        app.app_context(),
    ):
        yield app


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_creates_every_model_table(empty_app):
    upgrade()
    assert _tables() == set(db.metadata.tables)


def test_models_and_migrations_have_not_drifted(empty_app):
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models differ from migrations: {differences}"


def test_downgrade_to_base_removes_everything_and_upgrade_works_again(empty_app):
    upgrade()
    downgrade(revision="base")
    assert _tables() == set()
    upgrade()
    assert _tables() == set(db.metadata.tables)
