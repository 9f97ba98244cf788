from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.cases.cli import cases_cli
from app.csvfiles import lines
from app.dates import CASE_DATES_FROM, CASE_DATES_TO, is_case_date
from app.exports.services import export_cases
from app.exports.tables import REPORT_HEADERS, report_table
from app.files import private_file
from app.reports.queries import Filters, Period, report_rows


def _day(ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date as YYYY-MM-DD") from None
    if not is_case_date(day):
        raise click.BadParameter(f"{value} is not between {CASE_DATES_FROM} and {CASE_DATES_TO}")
    return day


@click.command("report")
@with_appcontext
@click.option("--from", "start", callback=_day, help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", callback=_day, help="Last day of the period (YYYY-MM-DD).")
def report_command(start: date | None, end: date | None) -> None:
    """The report CSV on standard output."""
    if start and end and end < start:
        raise click.BadParameter("--to is before --from")
    period = Period(start, end)
    rows, benchmarks = report_rows(period, Filters())
    for line in lines(REPORT_HEADERS, report_table(period, rows, benchmarks)):
        click.echo(line.encode("utf-8"), nl=False)  # bytes: UTF-8 whatever the terminal says


@cases_cli.command("export")
@click.option("--identified", is_flag=True, help="Client names instead of pseudonym codes.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file (default: standard output).",
)
def export_command(identified: bool, output: str | None) -> None:
    """The cases CSV (SPEC's columns), pseudonymised unless --identified."""
    chunks = export_cases({}, None, identified, by=None)
    if output is None:
        for chunk in chunks:
            click.echo(chunk, nl=False)
        return
    # Owner-only (client data), written beside the target and renamed at the end: never a
    # half-written file.
    target = Path(output)
    with private_file(target) as partial, partial.open("wb") as f:
        for chunk in chunks:
            f.write(chunk)
    click.echo(f"Exported to {target}.", err=True)
