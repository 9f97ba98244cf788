from datetime import date

import click
from flask.cli import with_appcontext

from app.exports.csvfile import lines
from app.exports.queries import REPORT_HEADERS, report_table
from app.reports.queries import Filters, Period, report_rows


def _day(ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date as YYYY-MM-DD") from None


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
