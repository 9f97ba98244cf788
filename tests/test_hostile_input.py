"""Input a tester sends on purpose: each of these once answered 500 (writing nothing, showing no
traceback, yet a 500). Now each answers 400, 404 or 422 with a message in the person's language,
and writes nothing. tests/test_fuzz.py looks for more of the same on every route."""

import html
import re
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from app.cases.models import Case
from app.deadlines.models import Deadline
from app.extensions import db
from app.forms_base import BaseForm, DateRange, QueryForm
from tests.helpers import csrf_field, login, row_counts, submit

HUGE = [str(2**31), str(2**63), "12345678901234567890", "9" * 5000]


@pytest.fixture
def admin(make, client):
    user = make.user("admin")
    login(client, user)
    return user


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("role", ["volunteer", "coordinator", "admin"])
@pytest.mark.parametrize("cursor", ["after", "before"])
def test_a_20_digit_cursor_on_the_case_list_shows_the_first_page_and_says_so(
    client, make, role, cursor
):
    user = make.user(role)
    case = make.case(by=user)
    login(client, user)
    response = client.get(f"/cases?{cursor}=2025-01-01.12345678901234567890")
    assert response.status_code == 422 and case.reference in response.text
    assert "The link to that page of the list is broken" in _text(response)


def test_in_russian_too(client, make):
    user = make.user("volunteer")
    login(client, user)
    submit(client, "/cases", {"locale": "ru", "next": "/cases"}, action="/language")
    response = client.get("/cases?after=2025-01-01.12345678901234567890")
    assert response.status_code == 422
    assert "Ссылка на эту страницу списка повреждена" in _text(response)


def test_ids_past_what_a_database_holds_are_no_record(app, client, admin):
    """Every ``<int:…>`` in the URL map, with numbers past 32 and 64 bits: 404, not an
    overflow in the query."""
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]
    assert len(rules) >= 5
    token = csrf_field(client.get("/cases").text)
    for rule in rules:
        for number in HUGE:
            url = re.sub(r"<int:\w+>", number, rule.rule)
            method = "GET" if "GET" in rule.methods else "POST"
            response = client.open(url, method=method, data=token if method == "POST" else None)
            assert response.status_code == 404, (url, response.status_code)


@pytest.mark.parametrize("page", HUGE)
def test_a_page_number_past_what_a_database_holds_is_no_page(client, admin, page):
    assert client.get(f"/admin/audit?page={page}").status_code == 404
    assert client.get("/admin/audit?page=2").status_code == 200  # past the end: empty


@pytest.mark.parametrize("day", ["1989-12-31", "2101-01-01", "9999-12-31"])
def test_a_calendar_day_outside_1990_to_2100_is_refused_beside_the_field(app, client, admin, day):
    before = row_counts(app)
    response = submit(client, "/admin/calendar", {"day": day, "kind": "holiday", "note": "x"})
    assert response.status_code == 422 and "check the year" in _text(response)
    assert row_counts(app) == before


@pytest.mark.parametrize("number", ["NaN", "nan", "sNaN", "inf", "-Infinity"])
@pytest.mark.parametrize("field", ["low", "high"])
def test_a_benchmark_that_is_not_a_number_is_refused(app, client, admin, number, field):
    form = {
        "case_type": "deportation_challenge",
        "low": "85",
        "high": "95",
        "publication": "The Insider",
        "title": "Deportations",
        "year": "2025",
        "quote": "nine out of ten",
    }
    before = row_counts(app)
    response = submit(client, "/admin/benchmarks/1", {**form, field: number})
    assert response.status_code == 422 and "Enter a number" in _text(response)
    assert row_counts(app) == before


@pytest.mark.parametrize(
    "url",
    [
        "/cases/HQ-%00",
        "/cases/%00/edit",
        "/clients/P-%00",
        "/cases?region=a%00b",
        "/cases?a%00=1",
        "/dashboard?region=%00",
        "/admin/audit?case=HQ%00",
        "/calendar/%00.ics",
    ],
)
def test_a_nul_in_the_address_is_refused_before_the_database_sees_it(client, admin, url):
    """PostgreSQL refuses NUL in text: this was a 500 there."""
    response = client.get(url)
    assert response.status_code == 400
    assert "cannot be used (NUL)" in _text(response)


def test_a_nul_in_a_form_is_cleaned_away(app, client, make):
    """Text fields drop control characters as they are read, NUL included."""
    user = make.user("volunteer")
    login(client, user)
    case = make.case(by=user)
    response = submit(
        client,
        f"/cases/{case.reference}",
        {"kind": "note", "occurred_on": "2025-03-02", "body": "Звонок\0 в суд"},
        action=f"/cases/{case.reference}/entries",
    )
    assert response.status_code == 302
    assert "Звонок в суд" in client.get(f"/cases/{case.reference}").text


UNSAFE_NEXT = [
    "/cases\r\nSet-Cookie: planted=1",
    "/\t/evil.example",
    "/\n/evil.example",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/",
]


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_an_unsafe_next_after_login_goes_to_the_case_list(app, make, target):
    """Once a 500 after the session was made: the person was logged in while the page said
    nothing was saved."""
    user = make.user("volunteer")
    client = app.test_client()
    page = client.get("/login")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={**csrf_field(page.text), "email": user.email, "password": "a sturdy test passphrase"},
    )
    assert response.status_code == 302 and response.location == "/cases"
    assert client.get("/cases").status_code == 200  # logged in, and told so
    again = client.get("/login", query_string={"next": target})  # already logged in
    assert again.status_code == 302 and again.location == "/cases"


def test_a_nul_in_next_refuses_the_login_before_anything_is_written(app, make):
    user = make.user("volunteer")
    client = app.test_client()
    page = client.get("/login")
    response = client.post(
        "/login",
        query_string={"next": "/cases\0"},
        data={**csrf_field(page.text), "email": user.email, "password": "a sturdy test passphrase"},
    )
    assert response.status_code == 400
    assert client.get("/cases").status_code == 302  # not logged in


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_an_unsafe_next_after_a_language_switch_goes_to_the_case_list(client, make, target):
    login(client, make.user("volunteer"))
    response = submit(client, "/cases", {"locale": "ru", "next": target}, action="/language")
    assert response.status_code == 302 and response.location == "/cases"


def test_a_safe_next_is_still_followed(client, make):
    login(client, make.user("volunteer"))
    target = "/cases?region=Москва&status=open"
    response = submit(client, "/cases", {"locale": "ru", "next": target}, action="/language")
    assert response.status_code == 302 and response.location.startswith("/cases?region=")


# Every date a person types about a case keeps to 1990–2100: 9999-12-31 once went through as a
# timeline or deadline date and broke the term arithmetic and the pages that count days.
CASE_FORMS = {
    "key date": ("edit", {"ruling_received_on": "{day}"}),
    "opened on": ("edit", {"opened_on": "{day}"}),
    "timeline": ("entries", {"kind": "note", "occurred_on": "{day}", "body": "Звонок"}),
    "deadline": ("deadlines", {"title": "Жалоба", "due_on": "{day}"}),
    "closing": ("close", {"outcome": "success", "closed_on": "{day}"}),
    "extension": ("deadline", {"action": "extended", "on": "{day}"}),
}


@pytest.mark.parametrize("form", sorted(CASE_FORMS))
@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("9999-12-31", "too far in the future"),
        ("2101-01-01", "too far in the future"),
        ("1989-12-31", "too far in the past"),
        ("0001-01-01", "too far in the past"),
    ],
)
def test_a_case_date_outside_1990_to_2100_is_refused(app, client, make, form, day, message):
    user = make.user("coordinator")
    login(client, user)
    case = make.case(by=user, ruling_received_on=date(2025, 3, 3))
    with app.app_context():
        deadline = db.session.execute(
            sa.select(Deadline.id).where(Deadline.case_id == case.id)
        ).scalar_one()
    where, fields = CASE_FORMS[form]
    data = {name: value.format(day=day) for name, value in fields.items()}
    page = f"/cases/{case.reference}"
    if where == "edit":
        page, action = f"{page}/edit", None
        data = {
            "case_type": "deportation_challenge",
            "opened_on": "2025-03-01",
            "region": "Москва",
            "version": str(case.version),
            **data,
        }
    elif where == "deadline":
        action = f"{page}/deadlines/{deadline}"
        data = {f"d{deadline}-{name}": value for name, value in data.items()}
    else:
        action = f"{page}/{where}"
    before = row_counts(app)
    response = submit(client, page, data, action=action)
    assert response.status_code == 422 and message in _text(response), form
    assert row_counts(app) == before
    with app.app_context():
        saved = db.session.get(Case, case.id)
        assert saved.version == case.version and saved.closed_on is None


def test_a_birth_date_keeps_to_1900_onwards(client, make):
    login(client, make.user("volunteer"))
    data = {"full_name": "Каримов Шерзод", "citizenship": "UZ", "born_on": "1899-12-31"}
    refused = submit(client, "/clients/new", data)
    assert refused.status_code == 422 and "too far in the past" in _text(refused)
    assert submit(client, "/clients/new", {**data, "born_on": "1900-01-01"}).status_code == 302


def _form_classes(*bases):
    for cls in bases:
        yield cls
        yield from _form_classes(*cls.__subclasses__())


def test_every_date_field_of_every_form_keeps_to_the_apps_dates(app):
    """The range is written once (app/dates.py) and given to every date field, in forms and
    filters alike, unless the field names its own (a date of birth)."""
    import wtforms

    checked = 0
    with app.test_request_context():  # the app has imported every area's forms
        for cls in set(_form_classes(BaseForm, QueryForm)) - {BaseForm, QueryForm}:
            form = cls(meta={"csrf": False}) if issubclass(cls, BaseForm) else cls()
            for field in form:
                if isinstance(field, wtforms.DateField):
                    assert any(isinstance(v, DateRange) for v in field.validators), field
                    checked += 1
    assert checked >= 15


def test_the_command_line_report_keeps_to_the_apps_dates(app):
    result = app.test_cli_runner().invoke(args=["report", "--from", "0001-01-01"])
    assert result.exit_code != 0 and "1990-01-01" in result.output
