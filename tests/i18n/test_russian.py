"""The interface in Russian: chosen by the browser, by the switch, or kept on the account."""

from datetime import date

import pytest

from tests.helpers import csrf_field, login

RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}


@pytest.fixture
def coordinator(make, client):
    user = make.user("coordinator")
    login(client, user)
    return user


def test_the_browsers_language_is_used(client, coordinator):
    assert "Дела" in client.get("/cases", headers=RU).text
    assert "Cases" in client.get("/cases", headers={"Accept-Language": "en"}).text
    assert "Cases" in client.get("/cases").text  # no preference: the source language


@pytest.mark.parametrize(
    ("count", "words"),
    [(1, "1 дело"), (2, "2 дела"), (5, "5 дел"), (21, "21 дело"), (11, "11 дел")],
)
def test_plural_forms(client, coordinator, make, count, words):
    for _ in range(count):
        make.case(by=coordinator)
    assert words in client.get("/cases", headers=RU).text


def test_the_switch_is_kept_on_the_account(client, coordinator, app):
    page = client.get("/cases", headers={"Accept-Language": "en"})
    response = client.post(
        "/language", data={**csrf_field(page.text), "locale": "ru", "next": "/cases"}
    )
    assert response.status_code == 302 and response.location == "/cases"
    assert 'lang="ru"' in client.get("/cases", headers={"Accept-Language": "en"}).text
    # A new session of the same account keeps the choice.
    other = app.test_client()
    login(other, coordinator)
    assert 'lang="ru"' in other.get("/cases", headers={"Accept-Language": "en"}).text


def test_the_switch_works_before_login(app, make):
    make.user()
    visitor = app.test_client()
    page = visitor.get("/login")
    visitor.post("/language", data={**csrf_field(page.text), "locale": "ru", "next": "/login"})
    assert "Войти" in visitor.get("/login").text


def test_an_unknown_language_changes_nothing(client, coordinator):
    page = client.get("/cases")
    client.post("/language", data={**csrf_field(page.text), "locale": "xx", "next": "/cases"})
    assert 'lang="en"' in client.get("/cases").text


def test_dates_numbers_and_form_errors_in_russian(client, coordinator, make):
    case = make.case(by=coordinator, opened_on=date(2025, 3, 4))
    page = client.get(f"/cases/{case.reference}", headers=RU).text
    assert "4 мар. 2025" in page
    response = client.post(
        "/cases/new", headers=RU, data={**csrf_field(client.get("/cases/new", headers=RU).text)}
    )
    assert response.status_code == 422 and "Обязательное поле." in response.text


def test_case_types_and_countries_are_translated_but_codes_are_not(client, coordinator, make):
    person = make.client(citizenship="UZ")
    make.case(client=person, by=coordinator, case_type="school_refusal")
    page = client.get(f"/clients/{person.pseudonym}", headers=RU).text
    assert "Узбекистан (UZ)" in page and "отказ в приёме в школу" in page.lower()
    rows = client.get("/exports/report.csv", headers=RU).data.decode("utf-8")
    assert "school_refusal," in rows and "no benchmark" in rows  # SPEC's codes, in any language
