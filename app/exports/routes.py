from datetime import date

from flask import Blueprint, abort

from app.access import STAFF, roles
from app.exports.csvfile import csv_response
from app.exports.queries import REPORT_HEADERS, report_table
from app.reports.queries import report_rows
from app.reports.routes import filter_form

bp = Blueprint("exports", __name__, url_prefix="/exports")


@bp.route("/report.csv")
@roles(*STAFF)
def report_csv():
    """The report CSV for the dashboard's filters (``from``, ``to``, region, …)."""
    form = filter_form()
    if form.errors:
        abort(400)
    period = form.period()
    rows, benchmarks = report_rows(period, form.report_filters())
    return csv_response(
        f"huquq-report-{date.today().isoformat()}.csv",
        REPORT_HEADERS,
        report_table(period, rows, benchmarks),
    )
