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


def test_existing_plaintext_rows_are_sealed_and_come_back_on_downgrade(empty_app):
    """0007 seals clients, summaries and notes that were kept in plaintext before it."""
    upgrade(revision="0006")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO clients (pseudonym, full_name, name_folded, citizenship, phone, born_on, "
                "created_at, updated_at) VALUES ('P-AAAA-BBBB', 'Худойбердиев Шерзод', "
                "'худойбердиев шерзод', 'UZ', '+998901234567', '1990-05-17', :t, :t)"
            ),
            {"t": "2025-01-01 00:00:00+00:00"},
        )
        client_id = connection.execute(sa.text("SELECT id FROM clients")).scalar()
        connection.execute(
            sa.text(
                "INSERT INTO cases (reference, client_id, case_type, opened_on, region, summary, "
                "created_at, updated_at) VALUES ('HQ-AAAA-BBBB', :c, 'other', '2025-01-02', 'Москва', "
                "'Задержан у метро', :t, :t)"
            ),
            {"c": client_id, "t": "2025-01-01 00:00:00+00:00"},
        )
    upgrade()
    from app.auth.models import User
    from app.clients.models import Client
    from app.clients.queries import clients_matching

    with db.engine.connect() as connection:
        raw = connection.execute(sa.text("SELECT full_name, phone FROM clients")).one()
    assert b"\xd0\xa5" not in bytes(raw[0]) and b"998" not in bytes(raw[1])
    client = db.session.execute(sa.select(Client)).scalar_one()
    assert (client.full_name, client.phone, str(client.born_on)) == (
        "Худойбердиев Шерзод",
        "+998901234567",
        "1990-05-17",
    )
    assert client.cases[0].summary == "Задержан у метро"
    assert clients_matching("Khudoyberdiev", User(email="a@example.org", role="admin")) == [client]
    db.session.remove()
    downgrade(revision="0006")
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT full_name, name_folded FROM clients")).one() == (
            "Худойбердиев Шерзод",
            "худойбердиев шерзод",
        )
        assert (
            connection.execute(sa.text("SELECT summary FROM cases")).scalar() == "Задержан у метро"
        )
