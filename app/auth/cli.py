import sys

import click
from flask.cli import AppGroup

from app.access import ROLES
from app.auth.services import create_user
from app.errors import RuleViolation
from app.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


def _read_password() -> str:
    """From standard input when it is not a terminal (scripts), else prompted twice."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(list(ROLES)), required=True)
def create_user_command(email: str, role: str) -> None:
    """Create an account; the password comes from standard input or a prompt."""
    password = _read_password()
    try:
        user = create_user(email, role, password, by=None)
    except RuleViolation as e:
        db.session.rollback()
        raise click.ClickException(e.message) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")
