"""The dashboard, the volunteer's summary, the report CSV and command, and benchmark admin."""

import csv
import io
from datetime import date

import pytest

from tests.helpers import login, row_counts, submit

HEADER = (
    "case_type,period_from,period_to,opened,open,decided,success,partial,failure,withdrawn,"
    "success_rate,strict_rate,ci_low,ci_high,benchmark_low,benchmark_high,comparison,"
    "benchmark_source"
)


@pytest.fixture
def coordinator(make, client):
    user = make.user("coordinator")
    login(client, user)
    return user


def _decided(make, by, n_success, n_failure, **fields):
    for i in range(n_success + n_failure):
        make.case(
            by=by,
            outcome="success" if i < n_success else "failure",
            closed_on=date(2025, 6, 1),
            opened_on=date(2025, 3, 1),
            **fields,
        )


def _csv(response) -> list[dict]:
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_dashboard_renders_on_an_empty_database(client, coordinator):
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "No case was decided in this period." in page.text
    assert page.text.count('role="img"') == 3


def test_dashboard_renders_on_demo_data(client, coordinator, app):
    assert (
        app.test_cli_runner()
        .invoke(args=["demo", "seed", "--cases", "400", "--seed", "3"])
        .exit_code
        == 0
    )
    page = client.get("/dashboard").text
    assert "Our rate," in page and "deportation challenge" in page
    for chart in (
        "Success rate by case type, with the published benchmark",
        "Cases opened and success rate by quarter",
        "Open cases by age",
    ):
        assert f">{chart}</title>" in page
    assert "<desc" in page and "Москва" in page and "Uzbekistan" in page


def test_no_rate_below_ten_decided_cases(client, coordinator, make):
    _decided(make, coordinator, 8, 1)
    page = client.get("/dashboard").text
    assert "9 decided cases: too few for a rate" in page
    assert "Our rate, 88.9%" not in page
    _decided(make, coordinator, 1, 0)
    page = client.get("/dashboard").text
    assert (
        "Our rate, 90% (95% CI 59.6%–98.2%, 10 decided cases), is consistent with the "
        "published 90%."
    ) in page


def test_school_refusals_below_the_band(client, coordinator, make):
    _decided(make, coordinator, 2, 28, case_type="school_refusal")
    page = client.get("/dashboard").text
    assert "is below the published 35%–40%." in page


def test_filters_change_the_numbers(client, coordinator, make):
    _decided(make, coordinator, 3, 0, region="Москва")
    _decided(make, coordinator, 0, 2, region="Казань")
    rows = {r["case_type"]: r for r in _csv(client.get("/exports/report.csv?region=Казань"))}
    assert (rows["all"]["decided"], rows["all"]["failure"], rows["all"]["success"]) == (
        "2",
        "2",
        "0",
    )
    rows = {r["case_type"]: r for r in _csv(client.get("/exports/report.csv?from=2025-07-01"))}
    assert rows["all"]["decided"] == "0" and rows["all"]["success_rate"] == ""
    rows = {r["case_type"]: r for r in _csv(client.get("/exports/report.csv?to=2025-06-01"))}
    assert rows["all"]["decided"] == "5" and rows["all"]["period_to"] == "2025-06-01"


def test_report_csv_is_spec_exactly(client, coordinator, make):
    _decided(make, coordinator, 9, 1)
    response = client.get("/exports/report.csv?from=2025-01-01&to=2025-12-31")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.data.decode("utf-8").splitlines()
    assert lines[0] == "\ufeff" + HEADER
    rows = {r["case_type"]: r for r in _csv(response)}
    assert list(rows) == [
        "deportation_challenge",
        "school_refusal",
        "registry_error",
        "forced_labour",
        "police_abuse",
        "other",
        "all",
    ]
    deport = rows["deportation_challenge"]
    assert deport["period_from"] == "2025-01-01" and deport["period_to"] == "2025-12-31"
    assert (deport["success_rate"], deport["strict_rate"]) == ("0.9000", "0.9000")
    assert (deport["ci_low"], deport["ci_high"]) == ("0.5958", "0.9821")
    assert (deport["benchmark_low"], deport["benchmark_high"]) == ("0.9000", "0.9000")
    assert deport["comparison"] == "consistent with benchmark"
    assert "nine out of ten" in deport["benchmark_source"]
    other = rows["registry_error"]
    assert other["success_rate"] == other["ci_low"] == other["benchmark_low"] == ""
    assert other["comparison"] == "no benchmark" and other["benchmark_source"] == ""
    assert rows["all"]["comparison"] == "no benchmark"


def test_report_rates_are_rounded_half_up_from_the_exact_value(client, coordinator, make):
    # 29 of 32 is 0.90625 exactly: half to even (a float's format) would write 0.9062.
    _decided(make, coordinator, 29, 3)
    rows = {r["case_type"]: r for r in _csv(client.get("/exports/report.csv?from=2025-01-01"))}
    assert rows["deportation_challenge"]["success_rate"] == "0.9063"
    assert rows["all"]["strict_rate"] == "0.9063"
    # 90.625% shown to a tenth: 90.6%.
    assert "Our rate, 90.6%" in client.get("/dashboard?from=2025-01-01").text


def test_csv_gives_what_the_dashboard_shows(client, coordinator, make):
    _decided(make, coordinator, 11, 2, region="Москва")
    query = "from=2025-01-01&region=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0"
    page = client.get(f"/dashboard?{query}").text
    assert f'href="/exports/report.csv?{query}"'.replace("&", "&amp;") in page
    rows = {r["case_type"]: r for r in _csv(client.get(f"/exports/report.csv?{query}"))}
    assert rows["deportation_challenge"]["decided"] == "13"
    assert "Our rate, 84.6%" in page and "13 decided cases" in page


def test_bad_period_is_refused(client, coordinator):
    page = client.get("/dashboard?from=2025-05-01&to=2025-01-01")
    assert page.status_code == 422 and "before its start" in page.text
    assert client.get("/exports/report.csv?from=2025-02-30").status_code == 400


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=0001-01-01", "too far in the past"),
        ("to=0001-01-02", "too far in the past"),
        ("to=9999-12-31", "too far in the future"),
        ("from=1989-12-31", "too far in the past"),
        ("from=2101-01-01", "too far in the future"),
    ],
)
def test_a_period_outside_the_apps_dates_is_refused_beside_the_field(
    client, coordinator, query, message
):
    """Once a 500 (the age of open cases counted back from the year 1)."""
    page = client.get(f"/dashboard?{query}")
    assert page.status_code == 422 and message in page.text
    assert client.get(f"/exports/report.csv?{query}").status_code == 400


def test_volunteers_get_their_own_summary_not_the_dashboard(client, make):
    volunteer, coordinator = make.user("volunteer"), make.user("coordinator")
    _decided(make, coordinator, 4, 0, assigned_to_id=volunteer.id)
    _decided(make, coordinator, 0, 7)
    login(client, volunteer)
    assert client.get("/dashboard").status_code == 403
    assert client.get("/exports/report.csv").status_code == 403
    page = client.get("/summary").text
    assert (
        "4 decided cases: too few" in page and "11 decided" not in page and "7 decided" not in page
    )


def test_a_volunteers_summary_names_no_one_else(client, make):
    """The volunteer filter on /summary offers the volunteer alone: the staff's emails are not
    theirs to list."""
    volunteer, coordinator = make.user("volunteer"), make.user("coordinator")
    others = [make.user(role) for role in ("volunteer", "coordinator", "admin")]
    _decided(make, coordinator, 2, 0, assigned_to_id=volunteer.id)
    _decided(make, coordinator, 1, 0, assigned_to_id=others[0].id)
    login(client, volunteer)
    page = client.get("/summary").text
    assert volunteer.email in page
    for other in (coordinator, *others):
        assert other.email not in page
    # Asking for someone else's cases shows nothing of theirs either.
    page = client.get(f"/summary?volunteer={others[0].id}").text
    assert others[0].email not in page and "3 decided" not in page


def test_report_command(app, make):
    coordinator = make.user("coordinator")
    _decided(make, coordinator, 10, 0)
    result = app.test_cli_runner().invoke(args=["report", "--from", "2025-01-01"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "\ufeff" + HEADER and lines[-1].startswith("all,2025-01-01,,10,0,10,10,")
    bad = app.test_cli_runner().invoke(args=["report", "--from", "01.01.2025"])
    assert bad.exit_code != 0 and "not a date" in bad.output


@pytest.fixture
def admin(make, client):
    user = make.user("admin")
    login(client, user)
    return user


def test_admin_edits_a_benchmark_and_it_is_audited(client, admin, app):
    page = client.get("/admin/benchmarks").text
    assert "35%–40%" in page
    response = submit(
        client,
        "/admin/benchmarks/2",
        {
            "case_type": "school_refusal",
            "low": "30",
            "high": "40",
            "publication": "The Insider",
            "title": "Speaking up for the voiceless",
            "year": "2025",
            "quote": "only 30–40%",
        },
    )
    assert response.status_code == 302
    rows = {r["case_type"]: r for r in _csv(client.get("/exports/report.csv"))}
    assert rows["school_refusal"]["benchmark_low"] == "0.3000"
    history = client.get("/admin/audit").text
    assert "benchmark <strong>changed</strong>" in history and "low: 0.35" in history


def test_admin_adds_a_benchmark_for_a_type_without_one(client, admin):
    response = submit(
        client,
        "/admin/benchmarks/new",
        {
            "case_type": "registry_error",
            "low": "70",
            "high": "80",
            "publication": "Example",
            "title": "A report",
            "year": "2024",
            "quote": "seven or eight in ten",
        },
    )
    assert response.status_code == 302
    rows = {r["case_type"]: r for r in _csv(client.get("/exports/report.csv"))}
    assert rows["registry_error"]["benchmark_high"] == "0.8000"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"low": "50", "high": "40"}, "cannot be below the lowest"),
        ({"low": "-5"}, "between 0 and 100"),
        ({"high": "140"}, "between 0 and 100"),
        ({"year": "1812"}, "between 1990"),
        ({"low": "много"}, "Not a valid decimal"),
        ({"quote": ""}, "This field is required."),
        ({"case_type": "deportation_challenge"}, "Not a valid choice"),
    ],
)
def test_bad_benchmark_is_refused(client, admin, app, changes, message):
    before = row_counts(app)
    data = {
        "case_type": "registry_error",
        "low": "70",
        "high": "80",
        "publication": "Example",
        "title": "A report",
        "year": "2024",
        "quote": "seven in ten",
        **changes,
    }
    response = submit(client, "/admin/benchmarks/new", data)
    assert response.status_code == 422 and message in response.text
    assert row_counts(app) == before


def test_coordinators_cannot_edit_benchmarks(client, coordinator):
    assert client.get("/admin/benchmarks").status_code == 403
