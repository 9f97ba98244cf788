"""The law over time, the working calendar's corrections, and the deadline calculator: on the
case page, the calculator page and `flask deadlines calc`, through the real app."""

import csv
import html
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.deadlines.models import DeadlineRule
from app.extensions import db
from tests.deadlines.test_deadlines import _deadlines
from tests.helpers import login, submit

RU = {"Accept-Language": "ru-RU,ru;q=0.9"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def volunteer(make, client):
    user = make.user("volunteer")
    login(client, user)
    return user


def _text(response) -> str:
    """The page's text as a reader sees it: no tags, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", response.text)).split())


def test_a_copy_received_before_the_amendment_counts_ten_sutki(make, app):
    """Federal Law of 29.10.2024 No. 364-FZ made the ten сутки of KoAP art. 30.3 ten days."""
    before = make.case(ruling_received_on=date(2024, 10, 16), opened_on=date(2024, 10, 17))
    [deadline] = _deadlines(app, before.id)
    # Sat 26 Oct 2024: сутки do not move to Monday.
    assert deadline.due_on == date(2024, 10, 26) and "десяти суток" in deadline.legal_basis
    last_day = make.case(ruling_received_on=date(2024, 10, 28), opened_on=date(2024, 10, 28))
    assert "до 29.10.2024" in _deadlines(app, last_day.id)[0].title
    after = make.case(ruling_received_on=date(2024, 10, 29), opened_on=date(2024, 10, 29))
    [deadline] = _deadlines(app, after.id)
    assert deadline.title == "Жалоба на постановление" and "364-ФЗ" in deadline.legal_basis
    assert deadline.due_on == date(2024, 11, 8)
    # Sat 9 Nov 2024 is not a working day: ten days from the 30th end on Monday.
    later = make.case(ruling_received_on=date(2024, 10, 30), opened_on=date(2024, 10, 30))
    assert _deadlines(app, later.id)[0].due_on == date(2024, 11, 11)


def test_a_date_corrected_across_the_amendment_moves_the_deadline_to_the_rule_then(
    client, volunteer, make, app
):
    case = make.case(
        by=volunteer, ruling_received_on=date(2024, 10, 16), opened_on=date(2024, 10, 17)
    )
    fields = {"case_type": "deportation_challenge", "opened_on": "2024-10-17", "region": "Москва"}
    submit(client, f"/cases/{case.reference}/edit", {**fields, "ruling_received_on": "2024-11-06"})
    [deadline] = _deadlines(app, case.id)
    assert (deadline.title, deadline.due_on) == ("Жалоба на постановление", date(2024, 11, 18))


def test_the_rules_in_force_before_and_after_the_amendment(app):
    with app.app_context():
        rules = db.session.execute(
            sa.select(DeadlineRule).where(DeadlineRule.case_type == "deportation_challenge")
        ).scalars()
        in_force = {
            day: [r.unit for r in rules_copy if r.applies_on(day)]
            for rules_copy in [list(rules)]
            for day in (date(2024, 10, 28), date(2024, 10, 29), date(2019, 1, 1))
        }
    assert in_force == {
        date(2024, 10, 28): ["sutki"],
        date(2024, 10, 29): ["days"],
        date(2019, 1, 1): ["sutki"],
    }


def test_a_school_claim_counts_from_the_day_the_refusal_became_known(client, volunteer, make, app):
    case = make.case(
        by=volunteer,
        case_type="school_refusal",
        refusal_on=date(2025, 11, 30),
        opened_on=date(2025, 12, 10),
    )
    assert _deadlines(app, case.id)[0].due_on == date(2026, 3, 2)  # from the refusal date
    page = client.get(f"/cases/{case.reference}", headers=RU)
    assert "с даты отказа" in _text(page)
    fields = {
        "case_type": "school_refusal",
        "opened_on": "2025-12-10",
        "region": "Москва",
        "refusal_on": "2025-11-30",
    }
    submit(client, f"/cases/{case.reference}/edit", {**fields, "decision_learned_on": "2025-12-08"})
    # 8 Mar 2026 is a Sunday and 9 Mar a day off (Labour Code art. 112 part 2).
    [deadline] = _deadlines(app, case.id)
    assert deadline.due_on == date(2026, 3, 10)
    page = _text(client.get(f"/cases/{case.reference}", headers=RU))
    assert "Дата, когда стало известно о решении" in page and "10.03.2026" in page


def test_each_deadline_explains_itself_on_the_case_page(client, volunteer, make):
    saturday = make.case(
        by=volunteer, ruling_received_on=date(2025, 10, 22), opened_on=date(2025, 10, 23)
    )
    page = _text(client.get(f"/cases/{saturday.reference}", headers=EN))
    assert (
        "10 days from 22.10.2025 → 01.11.2025 (Saturday, a working day by government decree)"
        in page
    )
    page = _text(client.get(f"/cases/{saturday.reference}", headers=RU))
    assert (
        "10 дней с 22.10.2025 → 01.11.2025 (суббота — рабочий день по постановлению Правительства)"
        in page
    )
    may = make.case(by=volunteer, ruling_received_on=date(2025, 4, 21), opened_on=date(2025, 4, 22))
    page = _text(client.get(f"/cases/{may.reference}", headers=EN))
    assert "→ 05.05.2025: May 1 – 4 are days off" in page
    page = _text(client.get(f"/cases/{may.reference}", headers=RU))
    assert "→ 05.05.2025: 1–4 мая — выходные дни" in page


def test_a_deadline_in_a_year_without_a_known_calendar_says_so(client, volunteer, make):
    case = make.case(
        by=volunteer, ruling_received_on=date(2028, 12, 25), opened_on=date(2028, 12, 25)
    )
    page = _text(client.get(f"/cases/{case.reference}", headers=EN))
    assert "The working calendar for 2029 is not known yet" in page
    page = _text(client.get(f"/cases/{case.reference}", headers=RU))
    assert "Производственный календарь на 2029 год ещё не известен" in page
    known = make.case(by=volunteer, ruling_received_on=date(2026, 3, 2), opened_on=date(2026, 3, 2))
    assert "working calendar for" not in _text(client.get(f"/cases/{known.reference}", headers=EN))


def test_a_regions_day_off_moves_that_regions_deadlines_only(client, make, app):
    admin = make.user("admin")
    kazan = make.case(
        by=admin, region="Казань", ruling_received_on=date(2027, 8, 20), opened_on=date(2027, 8, 20)
    )
    moscow = make.case(
        by=admin, region="Москва", ruling_received_on=date(2027, 8, 20), opened_on=date(2027, 8, 20)
    )
    assert _deadlines(app, kazan.id)[0].due_on == date(2027, 8, 30)
    login(client, admin)
    response = submit(
        client,
        "/admin/calendar",
        {"day": "2027-08-30", "kind": "holiday", "region": "RU-TA", "note": "День Республики"},
    )
    assert response.status_code == 302
    assert _deadlines(app, kazan.id)[0].due_on == date(2027, 8, 31)
    assert _deadlines(app, moscow.id)[0].due_on == date(2027, 8, 30)
    page = _text(client.get("/admin/calendar?year=2027", headers=RU))
    assert "Татарстан" in page and "День Республики" in page and "Рабочая суббота" not in page
    # What the library knows already is refused, beside the field.
    refused = submit(client, "/admin/calendar", {"day": "2027-01-04", "kind": "holiday"})
    assert refused.status_code == 422 and "as a day off already" in html.unescape(refused.text)


def test_the_admin_calendar_shows_the_librarys_days_and_an_unknown_year(client, make):
    login(client, make.user("admin"))
    page = _text(client.get("/admin/calendar?year=2025", headers=RU))
    assert "Выходной (перенесено с 01.11.2025)" in page and "рабочая суббота" in page
    assert "ещё не известен" not in page
    assert "Производственный календарь на 2029 год ещё не известен" in _text(
        client.get("/admin/calendar?year=2029", headers=RU)
    )


def test_the_calculator_counts_a_rule_or_a_typed_term(client, volunteer, app):
    with app.app_context():
        rule_id = db.session.execute(
            sa.select(DeadlineRule.id).where(
                DeadlineRule.case_type == "deportation_challenge", DeadlineRule.unit == "days"
            )
        ).scalar()
    page = client.get(f"/deadlines/calculator?on=2025-10-22&rule={rule_id}", headers=RU)
    assert page.status_code == 200
    assert "01.11.2025 (суббота — рабочий день по постановлению Правительства)" in _text(page)
    typed = client.get("/deadlines/calculator?on=2025-04-21&length=10&unit=days", headers=RU)
    assert "10 дней с 21.04.2025 → 05.05.2025: 1–4 мая — выходные дни" in _text(typed)
    no_unit = client.get("/deadlines/calculator?on=2025-04-21&length=10", headers=RU)
    assert "10 дней с 21.04.2025 → 05.05.2025" in _text(no_unit)
    sutki = client.get("/deadlines/calculator?on=2024-10-16&length=10&unit=sutki", headers=RU)
    assert "10 суток с 16.10.2024 → 26.10.2024" in _text(sutki)
    months = client.get("/deadlines/calculator?on=2025-12-08&length=3&unit=months", headers=RU)
    assert "3 месяца с 08.12.2025 → 10.03.2026" in _text(months)
    # Every rule in force on a day before the amendment: the сутки rule, not the days one.
    every = _text(client.get("/deadlines/calculator?on=2024-10-16", headers=RU))
    assert "получена до 29.10.2024" in every and "26.10.2024" in every
    # The chosen rule did not count that day: said, with the rule that did.
    old = _text(client.get(f"/deadlines/calculator?on=2024-10-16&rule={rule_id}", headers=EN))
    assert "this rule did not count events on that date" in old and "26.10.2024" in old
    bad = client.get("/deadlines/calculator?on=2025-02-30", headers=RU)
    assert bad.status_code in (200, 422) and "→" not in _text(bad)
    far = client.get("/deadlines/calculator?on=2100-12-31&length=3650&unit=months", headers=RU)
    assert far.status_code == 200


def test_the_calculator_needs_a_login(app):
    assert app.test_client().get("/deadlines/calculator").status_code in (302, 401)


def test_the_calculator_page_is_usable_on_a_phone(client, volunteer):
    page = client.get("/deadlines/calculator", headers=RU).text
    assert 'name="viewport" content="width=device-width' in page
    assert 'method="get"' in page and "Калькулятор сроков" in page
    assert 'inputmode="numeric"' in page


def _calc(app, *dates):
    return app.test_cli_runner().invoke(args=["deadlines", "calc", *dates])


def test_deadlines_calc_writes_spec_csv_one_row_per_date_and_rule_in_force(app):
    result = _calc(app, "2024-10-16", "2025-10-22")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert rows[0] == ["event_on", "case_type", "rule", "term", "due_on", "basis"]
    table = {(r[0], r[1], r[3], r[4]) for r in rows[1:]}
    assert ("2024-10-16", "deportation_challenge", "10d", "2024-10-26") in table
    assert ("2025-10-22", "deportation_challenge", "10d", "2025-11-01") in table
    assert ("2025-10-22", "school_refusal", "3m", "2026-01-22") in table
    assert len(rows) == 1 + 2 * 3  # three rule kinds in force on each date
    assert "суток" in next(r[5] for r in rows[1:] if r[0] == "2024-10-16" and r[3] == "10d")
    assert result.stderr == ""


def test_deadlines_calc_names_an_unknown_calendar_year_on_stderr(app):
    result = _calc(app, "2029-03-01")
    assert result.exit_code == 0
    assert "2029-03-12" in result.stdout and "2029 is not known yet" in result.stderr


@pytest.mark.parametrize("bad", ["2025-13-01", "yesterday", "0001-01-01"])
def test_deadlines_calc_refuses_a_bad_date_and_writes_nothing(app, bad):
    result = _calc(app, "2025-10-22", bad)
    assert result.exit_code != 0 and result.stdout == ""
    assert bad in result.stderr


def test_an_admin_gives_a_rule_the_dates_it_applies_between(client, make, app):
    login(client, make.user("admin"))
    fields = {
        "name": "Жалоба (тест)",
        "case_type": "other",
        "trigger": "ruling_received_on",
        "length": "5",
        "unit": "sutki",
        "legal_basis": "тест",
        "is_active": "y",
    }
    refused = submit(
        client,
        "/admin/deadline-rules/new",
        {**fields, "valid_from": "2025-01-10", "valid_to": "2025-01-01"},
    )
    assert refused.status_code == 422
    assert "cannot end before it starts" in html.unescape(refused.text)
    saved = submit(client, "/admin/deadline-rules/new", {**fields, "valid_from": "2025-01-10"})
    assert saved.status_code == 302
    page = _text(client.get("/admin/deadline-rules", headers=RU))
    assert "с 10.01.2025" in page and "до 29.10.2024" in page and "по 28.10.2024" in page
