"""What the report file holds, as (headers, rows): SPEC's report columns and cells."""

from decimal import Decimal
from fractions import Fraction

from app.reports.metrics import Summary, rounded
from app.reports.queries import Period

REPORT_HEADERS = (
    "case_type",
    "period_from",
    "period_to",
    "opened",
    "open",
    "decided",
    "success",
    "partial",
    "failure",
    "withdrawn",
    "success_rate",
    "strict_rate",
    "ci_low",
    "ci_high",
    "benchmark_low",
    "benchmark_high",
    "comparison",
    "benchmark_source",
)


def _rate(value: Fraction | Decimal | float | None) -> str | None:
    """SPEC: four decimals, rounded half up from the exact value."""
    return None if value is None else f"{rounded(value, 4):.4f}"


def report_table(period: Period, rows: list[Summary], benchmarks: dict) -> list[tuple]:
    """SPEC's report rows: rates with 4 decimals; rate and interval cells empty where nothing
    was decided; benchmark cells empty where there is no benchmark."""
    table = []
    for row in rows:
        c = row.counts
        low, high = row.interval if row.interval else (None, None)
        source = benchmarks[row.key].source if row.benchmark_low is not None else None
        table.append(
            (
                row.key,
                period.start,
                period.end,
                c.opened,
                c.open,
                c.decided,
                c.success,
                c.partial,
                c.failure,
                c.withdrawn,
                _rate(row.rate),
                _rate(row.strict),
                _rate(low),
                _rate(high),
                _rate(row.benchmark_low),
                _rate(row.benchmark_high),
                row.comparison,
                source,
            )
        )
    return table
