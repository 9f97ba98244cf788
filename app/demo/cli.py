import click
from flask.cli import AppGroup

from app.database import refresh_statistics
from app.demo.services import seed_demo
from app.extensions import db

demo_cli = AppGroup("demo", help="Synthetic data for trying the app and for benchmarks.")


@demo_cli.command("seed")
@click.option(
    "--cases", "n_cases", type=click.IntRange(min=0), required=True, help="How many cases."
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data.")
def seed_command(n_cases: int, seed: int) -> None:
    """Add realistic synthetic clients, users and cases."""
    totals = seed_demo(n_cases, seed)
    db.session.commit()
    refresh_statistics()
    db.session.commit()
    click.echo(
        f"Seeded {totals['cases']} cases for {totals['clients']} clients "
        f"({totals['users']} demo users)."
    )
