"""`flask users create`, as SPEC gives it."""

import sqlalchemy as sa

from app.auth.models import User
from app.extensions import db


def test_users_create_reads_the_password_from_standard_input(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "Coord@Example.org", "--role", "coordinator"],
        input="a good long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.execute(sa.select(User)).scalar_one()
        assert (user.email, user.role) == ("coord@example.org", "coordinator")
        assert user.password_hash.startswith("$argon2id$")


def test_users_create_refuses_a_short_password_and_an_unknown_role(app):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=["users", "create", "a@example.org", "--role", "admin"], input="short\n"
    )
    assert short.exit_code != 0 and "at least 12" in short.output
    role = runner.invoke(
        args=["users", "create", "a@example.org", "--role", "king"], input="x" * 20
    )
    assert role.exit_code != 0
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 0


def test_users_create_refuses_a_duplicate_email(app, make):
    make.user("volunteer", email="v@example.org")
    result = app.test_cli_runner().invoke(
        args=["users", "create", "V@example.org", "--role", "admin"],
        input="a good long passphrase\n",
    )
    assert result.exit_code != 0 and "already exists" in result.output
