"""The success-rate maths against values worked out by hand."""

from decimal import Decimal
from fractions import Fraction

import pytest

from app.reports.metrics import (
    ABOVE,
    BELOW,
    CONSISTENT,
    INSUFFICIENT,
    NO_BENCHMARK,
    Counts,
    compare,
    rounded,
    strict_rate,
    success_rate,
    summarise,
    wilson_interval,
)


def counts(success=0, partial=0, failure=0, withdrawn=0) -> Counts:
    return Counts(
        decided=success + partial + failure,
        successful=success + partial,
        success=success,
        partial=partial,
        failure=failure,
        withdrawn=withdrawn,
    )


def test_rates_of_nothing_decided_are_empty():
    nothing = counts(withdrawn=4)
    assert success_rate(nothing) is None and strict_rate(nothing) is None
    assert wilson_interval(0, 0) is None
    assert summarise("x", nothing, (0.9, 0.9)).comparison == INSUFFICIENT


def test_partial_counts_as_success_but_not_in_the_strict_rate():
    c = counts(success=6, partial=2, failure=2, withdrawn=5)
    assert success_rate(c) == Fraction(4, 5) and strict_rate(c) == Fraction(3, 5)


# Worked out from the other algebraic form of the Wilson interval,
# (2s + z² ± z·√(z² + 4s(1 − s/n))) / (2(n + z²)), not from the code under test.
@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (9, 10, 0.595850, 0.982124),
        (10, 10, 0.722467, 1.0),  # all successes: the top is exactly 1
        (0, 10, 0.0, 0.277533),  # all failures: the bottom is exactly 0
        (9, 9, 0.700855, 1.0),
        (86, 100, 0.778628, 0.914737),
        (1, 2, 0.094531, 0.905469),
    ],
)
def test_wilson_interval_matches_hand_computed_values(successes, n, low, high):
    got_low, got_high = wilson_interval(successes, n)
    assert got_low == pytest.approx(low, abs=1e-5)
    assert got_high == pytest.approx(high, abs=1e-5)


def test_interval_always_contains_the_rate_and_stays_within_0_and_1():
    for n in range(1, 60):
        for s in range(n + 1):
            low, high = wilson_interval(s, n)
            assert 0 <= low <= s / n <= high <= 1


@pytest.mark.parametrize(
    ("interval", "decided", "bench", "expected"),
    [
        ((0.5, 0.99), 9, (0.9, 0.9), INSUFFICIENT),  # n = 9: too few, whatever the interval
        ((0.5958, 0.9821), 10, (0.9, 0.9), CONSISTENT),  # n = 10: compared
        ((0.70, 0.85), 120, (0.9, 0.9), BELOW),
        ((0.92, 0.97), 300, (0.9, 0.9), ABOVE),
        ((0.30, 0.36), 200, (0.35, 0.40), CONSISTENT),  # overlaps the band's low end
        ((0.41, 0.50), 200, (0.35, 0.40), ABOVE),
        ((0.20, 0.349), 200, (0.35, 0.40), BELOW),
        ((0.9, 0.9), 10_000, (None, None), NO_BENCHMARK),  # no benchmark: whatever the size
        ((0.9, 0.9), 3, (None, None), NO_BENCHMARK),
        ((0.9, 0.95), 10, (0.9, 0.9), CONSISTENT),  # touching the edge is consistent
    ],
)
def test_comparison_in_spec_order(interval, decided, bench, expected):
    assert compare(interval, decided, *bench) == expected


def test_summaries_at_nine_and_ten_decided():
    nine = summarise("deportation_challenge", counts(success=9), (0.9, 0.9))
    ten = summarise("deportation_challenge", counts(success=9, failure=1), (0.9, 0.9))
    assert (nine.comparison, nine.shows_rate) == (INSUFFICIENT, False)
    assert (ten.comparison, ten.shows_rate) == (CONSISTENT, True)
    assert ten.rate == Fraction(9, 10) and ten.interval == pytest.approx(
        (0.595850, 0.982124), abs=1e-5
    )


def test_all_failures_against_school_benchmark_is_below():
    row = summarise("school_refusal", counts(failure=30), (0.35, 0.40))
    assert row.rate == 0 and row.interval[1] == pytest.approx(0.113513, abs=1e-5)
    assert row.comparison == BELOW


def test_the_all_row_has_no_benchmark():
    assert summarise("all", counts(success=500, failure=1)).comparison == NO_BENCHMARK


def test_counts_add_up_field_by_field():
    total = counts(success=1, partial=2) + counts(failure=3, withdrawn=4)
    assert total == counts(success=1, partial=2, failure=3, withdrawn=4)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Fraction(29, 32), 4, "0.9063"),  # 0.90625
        (Fraction(2469, 20000), 4, "0.1235"),  # 0.12345: no float holds it exactly
        (Fraction(1, 3), 4, "0.3333"),
        (Fraction(0), 4, "0.0000"),
        (Fraction(1), 4, "1.0000"),
        (Decimal("0.35"), 4, "0.3500"),
        (Fraction(369, 400), 3, "0.923"),  # 0.9225, a percentage to a tenth
    ],
)
def test_rounding_is_half_up_from_the_exact_value(value, places, expected):
    assert f"{rounded(value, places):.{places}f}" == expected
