"""The success-rate maths, as SPEC fixes it. Pure functions: no Flask, no database.

- decided = success + partial + failure (counted in SQL by ``Case.is_decided``)
- success rate = (success + partial) / decided; strict rate = success / decided
- 95% interval: Wilson score interval for the success rate, z = 1.959964
- comparison with a benchmark [low, high], in this order: "insufficient data" when decided < 10;
  "below benchmark" when the interval's high end < low; "above benchmark" when its low end > high;
  otherwise "consistent with benchmark". No benchmark: "no benchmark", whatever the size.
"""

from dataclasses import dataclass, fields
from decimal import Decimal
from fractions import Fraction
from math import floor, sqrt

Z95 = 1.959964
MIN_DECIDED = 10

INSUFFICIENT = "insufficient data"
BELOW = "below benchmark"
ABOVE = "above benchmark"
CONSISTENT = "consistent with benchmark"
NO_BENCHMARK = "no benchmark"
COMPARISONS = (INSUFFICIENT, BELOW, ABOVE, CONSISTENT, NO_BENCHMARK)


@dataclass(frozen=True)
class Counts:
    """What one report row counts (see ``reports.queries.outcome_counts`` for the period rules)."""

    opened: int = 0
    open: int = 0
    decided: int = 0
    successful: int = 0
    success: int = 0
    partial: int = 0
    failure: int = 0
    withdrawn: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


def _share(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def rounded(value: Fraction | Decimal | float, places: int) -> Decimal:
    """``value`` to ``places`` decimals, a half rounded up, from its exact value (a rate is a
    fraction of counts: 29/32 = 0.90625 → 0.9063, where a float's half-to-even gives 0.9062).
    Rates and bounds are never negative."""
    units = floor(Fraction(value) * 10**places + Fraction(1, 2))
    return Decimal(units).scaleb(-places)


def success_rate(counts: Counts) -> Fraction | None:
    """(success + partial) / decided; None when nothing was decided."""
    return _share(counts.successful, counts.decided)


def strict_rate(counts: Counts) -> Fraction | None:
    """success / decided; None when nothing was decided."""
    return _share(counts.success, counts.decided)


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for successes out of n; None when n is 0."""
    if n <= 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At 0 or n successes one end is exactly 0 or 1; floating point would land a hair inside.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def compare(
    interval: tuple[float, float] | None, decided: int, low: float | None, high: float | None
) -> str:
    """How the rate stands against the benchmark [low, high], in SPEC's order."""
    if low is None or high is None:
        return NO_BENCHMARK
    if decided < MIN_DECIDED or interval is None:
        return INSUFFICIENT
    if interval[1] < low:
        return BELOW
    if interval[0] > high:
        return ABOVE
    return CONSISTENT


@dataclass(frozen=True)
class Summary:
    """One row of the report: the counts, the rates and how they stand against the benchmark."""

    key: str
    counts: Counts
    rate: Fraction | None  # exact, so that rounding starts from the true value
    strict: Fraction | None
    interval: tuple[float, float] | None
    benchmark_low: float | None
    benchmark_high: float | None
    comparison: str

    @property
    def shows_rate(self) -> bool:
        """Rates are shown only from MIN_DECIDED decided cases on, so a small sample never
        over-claims (the CSV still carries every figure)."""
        return self.counts.decided >= MIN_DECIDED


def summarise(key: str, counts: Counts, benchmark: tuple[float, float] | None = None) -> Summary:
    interval = wilson_interval(counts.successful, counts.decided)
    low, high = benchmark if benchmark is not None else (None, None)
    return Summary(
        key=key,
        counts=counts,
        rate=success_rate(counts),
        strict=strict_rate(counts),
        interval=interval,
        benchmark_low=low,
        benchmark_high=high,
        comparison=compare(interval, counts.decided, low, high),
    )
