"""`flask deadlines …`: the last day under each rule for given event dates (SPEC), and counting
the open deadlines again after the calendar library was upgraded."""

from datetime import date

import click
from flask.cli import AppGroup

from app.csvfiles import lines
from app.dates import CASE_DATES_FROM, CASE_DATES_TO, is_case_date, today
from app.deadlines.queries import CALC_HEADERS, calc_rows
from app.deadlines.services import recount_deadlines
from app.extensions import db

deadlines_cli = AppGroup("deadlines", help="Deadline rules and the working calendar.")


def _days(ctx, param, values: tuple[str, ...]) -> list[date]:
    days = []
    for value in values:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a date as YYYY-MM-DD") from None
        if not is_case_date(day):
            raise click.BadParameter(
                f"{value} is not between {CASE_DATES_FROM} and {CASE_DATES_TO}"
            )
        days.append(day)
    return days


@deadlines_cli.command("calc")
@click.argument("dates", nargs=-1, required=True, callback=_days)
def calc_command(dates: list[date]) -> None:
    """For each DATE (YYYY-MM-DD) taken as the event, the last day under every rule in force
    on it, as CSV: event_on,case_type,rule,term,due_on,basis. A term in сутки is written as
    days (SPEC knows d and m); its name and basis say so. Federal calendar; a due day in a year
    whose calendar is not known yet is named on standard error."""
    rows, unknown = calc_rows(dates)
    for line in lines(CALC_HEADERS, rows):
        click.echo(line.encode("utf-8"), nl=False)
    for year in unknown:
        click.echo(
            f"Note: the working calendar for {year} is not known yet; days off moved by its "
            "decree are not counted (upgrade the holidays package, or enter them on "
            "/admin/calendar).",
            err=True,
        )


@deadlines_cli.command("recount")
def recount_command() -> None:
    """Count the open rule deadlines still ahead again now (the app also does it by itself,
    within minutes, when it finds the installed `holidays` is not the one they were counted
    with)."""
    try:
        recount_deadlines(today(), by=None)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo("Open deadlines ahead counted again.", err=True)
