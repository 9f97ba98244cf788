"""Client pages: adding, finding by name, editing."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.clients.services import DUPLICATE_CHECKS_PER_HOUR
from app.extensions import db
from tests.helpers import csrf_field, login, row_counts, submit

NEW_CLIENT = {
    "full_name": "Абдуллаева Мадина",
    "citizenship": "TJ",
    "phone": "+992 92 555 12 34",
    "messenger": "Telegram @madina",
    "preferred_language": "tg",
    "born_on": "1990-05-17",
    "notes": "Звонить после 18:00",
}


@pytest.fixture
def volunteer(make, client):
    user = make.user("volunteer")
    login(client, user)
    return user


def test_add_a_client_and_see_their_page(client, volunteer):
    response = submit(client, "/clients/new", NEW_CLIENT)
    assert response.status_code == 302
    page = client.get(response.location).text
    for shown in (
        "Абдуллаева Мадина",
        "Tajikistan (TJ)",
        "+992925551234",
        "Telegram @madina",
        "Tajik",
        "Звонить после 18:00",
    ):
        assert shown in page


def test_the_pseudonym_code_is_random_not_derived_from_the_name(client, volunteer, make):
    first = make.client(full_name="Абдуллаева Мадина", citizenship="TJ")
    second = make.client(full_name="Абдуллаева Мадина", citizenship="TJ")
    assert first.pseudonym != second.pseudonym
    assert first.pseudonym.startswith("P-") and "Абдуллаева" not in first.pseudonym


@pytest.mark.parametrize(
    "typed", ["абдуллаева", "МАДИНА абдуллаева", "  мадина  ", "Abdullaeva", "Madina Abdulaeva"]
)
def test_search_finds_by_whole_words_in_any_spelling(client, volunteer, make, typed):
    wanted = make.client(by=volunteer, full_name="Абдуллаева Мадина")
    make.client(by=volunteer, full_name="Рахимов Жасур")
    response = submit(client, "/clients", {"q": typed}, action="/clients/search")
    assert response.status_code == 200
    assert wanted.pseudonym in response.text and "Рахимов Жасур" not in response.text


def test_search_treats_yo_and_e_alike(client, volunteer, make):
    wanted = make.client(by=volunteer, full_name="Алёшина Зарина")
    response = submit(client, "/clients", {"q": "алешина"}, action="/clients/search")
    assert wanted.pseudonym in response.text


def test_search_is_a_post_so_the_name_never_reaches_a_url(client, volunteer, make):
    make.client(by=volunteer, full_name="Абдуллаева Мадина")
    page = client.get("/clients").text
    assert 'action="/clients/search"' in page and 'method="post"' in page
    response = client.get("/clients/search?q=Абдуллаева")
    assert response.status_code == 404 and "Абдуллаева" not in response.text


@pytest.mark.parametrize("typed", ["%", "_", "a%_\\"])
def test_search_wildcards_are_taken_literally(client, volunteer, make, typed):
    make.client(by=volunteer, full_name="Рахимов Жасур")
    response = submit(client, "/clients", {"q": typed * 2}, action="/clients/search")
    assert "Рахимов Жасур" not in response.text


def test_volunteer_cannot_find_or_open_someone_elses_client(client, volunteer, make):
    other = make.user("volunteer")
    hidden = make.client(by=other, full_name="Шералиев Бахром")
    response = submit(client, "/clients", {"q": "Шералиев"}, action="/clients/search")
    assert "Шералиев" not in response.text.split("<h2>")[1]
    assert client.get(f"/clients/{hidden.pseudonym}").status_code == 404


def test_edit_a_client(client, volunteer, make):
    person = make.client(by=volunteer)
    response = submit(
        client,
        f"/clients/{person.pseudonym}/edit",
        {**NEW_CLIENT, "full_name": "Абдуллаева Мадина Рустамовна"},
        follow=True,
    )
    assert response.status_code == 200 and "Абдуллаева Мадина Рустамовна" in response.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "", "This field is required."),
        ("full_name", "Ж" * 201, "200"),
        ("citizenship", "SU", "Not a valid choice"),
        ("phone", "8-9OO-123", "Enter a phone number"),
        ("phone", "+7 916 123 45 67 ext 5", "Enter a phone number"),
        ("preferred_language", "klingon", "Not a valid choice"),
        ("born_on", "1990-02-29", "Not a valid date"),
        ("born_on", "1850-01-01", "too far in the past"),
        ("notes", "н" * 10_001, "10000"),
    ],
)
def test_bad_client_input_is_refused_and_writes_nothing(
    client, volunteer, app, field, value, message
):
    before = row_counts(app)
    response = submit(client, "/clients/new", {**NEW_CLIENT, field: value})
    assert response.status_code == 422 and message in response.text
    assert f'id="{field}-error"' in response.text
    assert row_counts(app) == before


def test_open_a_second_case_for_an_existing_client(client, volunteer, make):
    person = make.client(by=volunteer)
    response = submit(
        client,
        f"/clients/{person.pseudonym}/cases/new",
        {
            "case_type": "registry_error",
            "opened_on": "2025-05-05",
            "region": "Екатеринбург",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/clients/{person.pseudonym}").text
    assert response.location.rsplit("/", 1)[-1] in page and "registry error" in page


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Худойбердиев Шерзод", "Khudoyberdiev"),
        ("Khudoyberdiev Sherzod", "Худойбердиев шерзод"),
        ("Xudoyberdiyev Sherzod", "Худойбердиев"),
        ("Абдуллаев Акмал", "Abdullaev"),
        ("Sheraliev Bahrom", "Шералиев"),
    ],
)
def test_search_across_scripts_and_transliterations(client, volunteer, make, stored, typed):
    wanted = make.client(by=volunteer, full_name=stored)
    response = submit(client, "/clients", {"q": typed}, action="/clients/search")
    assert wanted.pseudonym in response.text


def test_search_by_phone_or_document_number(client, volunteer, make):
    wanted = make.client(by=volunteer, phone="+998901234567", document_number="AB 7654321")
    for typed in ("+998 90 123-45-67", "901234567", "ab7654321"):
        response = submit(client, "/clients", {"q": typed}, action="/clients/search")
        assert wanted.pseudonym in response.text, typed


def test_adding_someone_who_may_exist_asks_first(client, volunteer, make, app):
    existing = make.client(by=volunteer, full_name="Худойбердиев Шерзод")
    before = row_counts(app)
    asked = submit(client, "/clients/new", {**NEW_CLIENT, "full_name": "Xudoyberdiyev Sherzod"})
    assert asked.status_code == 422 and "may be a client you already have" in asked.text
    assert existing.pseudonym in asked.text
    after = row_counts(app)
    assert after.pop("audit_events") == before.pop("audit_events") + 1  # the check, on record
    assert after == before
    confirmed = submit(
        client,
        "/clients/new",
        {**NEW_CLIENT, "full_name": "Xudoyberdiyev Sherzod", "different_person": "y"},
    )
    assert confirmed.status_code == 302


HIDDEN = {"full_name": "Шералиев Бахром", "phone": "+998900000001", "document_number": "FA1234567"}
# What a volunteer may type to probe for that hidden client, and something matching no one.
PROBES = {
    "name": {"full_name": "Sheraliev Bahrom"},
    "phone": {"full_name": "Другое Имя", "phone": "+998 90 000 00 01"},
    "document": {"full_name": "Третье Имя", "document_number": "fa 1234567"},
    "nobody": {"full_name": "Никто Неизвестный", "phone": "+998 90 999 99 99"},
}


def _answer(response, client) -> tuple:
    """What a person learns from adding a client: the status, where it leads (the new record's
    own code or reference taken out), and every message and warning on the page it leads to."""
    assert response.status_code == 302, response.status_code
    page = client.get(response.location).text
    said = re.findall(r'<(?:p|div) class="(?:flash|duplicates)[^"]*"[^>]*>.*?</(?:p|div)>', page)
    code = response.location.rsplit("/", 1)[-1]
    said = [message.replace(code, "CODE") for message in said]
    return response.status_code, response.location.replace(code, "CODE"), said


@pytest.mark.parametrize("path", ["/clients/new", "/cases/new"])
def test_a_match_the_volunteer_cannot_see_tells_them_nothing(client, volunteer, make, app, path):
    """The duplicate check is no oracle: probing for a client on someone else's case by name,
    phone or document number answers just as typing a stranger does, and the intake goes
    through; a coordinator is shown the match instead."""
    hidden = make.client(by=make.user("volunteer"), **HIDDEN)
    make.case(client=hidden, by=make.user("coordinator"))
    form = client.get(path).text
    assert "A coordinator checks every new client" in form
    answers = {}
    for what, typed in PROBES.items():
        fields = {**NEW_CLIENT, "phone": "", **typed}
        if path == "/cases/new":
            fields = {f"client-{k}": v for k, v in fields.items()} | {
                "case-case_type": "other",
                "case-opened_on": "2025-03-03",
                "case-region": "Москва",
            }
        response = submit(client, path, fields)
        answers[what] = _answer(response, client)
        page = client.get(response.location).text
        assert hidden.pseudonym not in page and "Шералиев" not in page
    assert answers["name"] == answers["phone"] == answers["document"] == answers["nobody"]
    assert any("added" in message or "opened" in message for message in answers["name"][2])
    # The coordinator sees the three matches, naming both clients by their codes.
    coordinator = app.test_client()
    login(coordinator, make.user("coordinator"))
    listed = coordinator.get("/clients/duplicates").text
    assert listed.count(f'href="/clients/{hidden.pseudonym}"') == 3
    for what in ("name", "phone", "document number"):
        assert f'<td data-label="Matching">{what}</td>' in listed
    assert client.get("/clients/duplicates").status_code == 403


def test_the_coordinator_sees_the_match_on_the_new_client_and_marks_it_checked(
    client, volunteer, make, app
):
    hidden = make.client(by=make.user("volunteer"), **HIDDEN)
    make.case(client=hidden, by=make.user("coordinator"))
    added = submit(client, "/clients/new", {**NEW_CLIENT, "full_name": "Шералиев Бахром"})
    new_code = added.location.rsplit("/", 1)[-1]
    assert "Possible duplicate" not in client.get(added.location).text
    coordinator = app.test_client()
    login(coordinator, make.user("coordinator"))
    for code, other in ((new_code, hidden.pseudonym), (hidden.pseudonym, new_code)):
        page = coordinator.get(f"/clients/{code}").text
        assert "Possible duplicate to check" in page and f"/clients/{other}" in page
    listed = coordinator.get("/clients/duplicates").text
    action = re.search(r'action="(/clients/duplicates/\d+/checked)"', listed).group(1)
    done = submit(coordinator, "/clients/duplicates", {}, action=action, follow=True)
    assert "Marked as checked" in done.text and hidden.pseudonym not in done.text
    assert "Possible duplicate to check" not in coordinator.get(f"/clients/{new_code}").text
    with app.app_context():
        event = (
            db.session.execute(
                sa.select(AuditEvent)
                .where(AuditEvent.entity == "possible_duplicates")
                .order_by(AuditEvent.id.desc())
            )
            .scalars()
            .first()
        )
        assert event.action == "update" and event.changes["checked_at"][1]


def test_a_match_the_volunteer_can_see_is_still_offered(client, volunteer, make):
    mine = make.client(by=volunteer, **HIDDEN)
    asked = submit(client, "/clients/new", {**NEW_CLIENT, **PROBES["document"]})
    assert asked.status_code == 422 and mine.pseudonym in asked.text


def test_every_check_is_audited_without_what_was_typed(client, volunteer, make, app):
    hidden = make.client(by=make.user("volunteer"), **HIDDEN)
    make.case(client=hidden, by=make.user("coordinator"))
    make.client(by=volunteer, full_name="Шералиев Бахром")
    submit(client, "/clients/new", {**NEW_CLIENT, **PROBES["name"]})  # asked about their own
    submit(client, "/clients/new", {**NEW_CLIENT, **PROBES["nobody"]})
    with app.app_context():
        events = (
            db.session.execute(
                sa.select(AuditEvent)
                .where(AuditEvent.action == "duplicate_check")
                .order_by(AuditEvent.id)
            )
            .scalars()
            .all()
        )
    assert [e.actor_id for e in events] == [volunteer.id, volunteer.id]
    assert [e.changes for e in events] == [
        {"visible": [None, 1], "not_visible": [None, 1], "deferred": [None, False]},
        {"visible": [None, 0], "not_visible": [None, 0], "deferred": [None, False]},
    ]


def test_duplicate_checks_are_limited_per_hour(client, volunteer, make, app, clock):
    """Past DUPLICATE_CHECKS_PER_HOUR checks in an hour, a volunteer is no longer asked even
    about clients they can see: the check is left to a coordinator, and the intake goes
    through. An hour later they are asked again."""
    mine = make.client(by=volunteer, **HIDDEN)
    for n in range(DUPLICATE_CHECKS_PER_HOUR - 1):
        added = submit(
            client, "/clients/new", {**NEW_CLIENT, "full_name": f"Клиент Номер{n}", "phone": ""}
        )
        assert added.status_code == 302
        clock.advance(seconds=30)
    asked = submit(client, "/clients/new", {**NEW_CLIENT, **PROBES["document"]})
    assert asked.status_code == 422 and mine.pseudonym in asked.text  # the last answered one
    deferred = submit(client, "/clients/new", {**NEW_CLIENT, **PROBES["document"]})
    assert deferred.status_code == 302 and mine.pseudonym not in client.get(deferred.location).text
    coordinator = app.test_client()
    login(coordinator, make.user("coordinator"))
    assert mine.pseudonym in coordinator.get("/clients/duplicates").text
    clock.advance(minutes=61)
    login(client, volunteer)  # (the session ended after 30 idle minutes)
    again = submit(client, "/clients/new", {**NEW_CLIENT, **PROBES["document"]})
    assert again.status_code == 422 and mine.pseudonym in again.text
    with app.app_context():
        flags = (
            db.session.execute(
                sa.select(AuditEvent.changes).where(AuditEvent.action == "duplicate_check")
            )
            .scalars()
            .all()
        )
    assert [f["deferred"][1] for f in flags].count(True) == 1


def test_the_safe_contact_note_is_shown_with_the_contacts(client, volunteer, make):
    person = make.client(
        by=volunteer, phone="+998901234567", safe_contact="никаких СМС, звонить брату"
    )
    case = make.case(client=person, by=volunteer)
    assert "никаких СМС, звонить брату" in client.get(f"/clients/{person.pseudonym}").text
    assert "никаких СМС, звонить брату" in client.get(f"/cases/{case.reference}").text


def test_a_client_goes_from_the_volunteer_with_their_only_case(client, volunteer, make, app):
    """Client visibility follows the cases: once a coordinator gives the client's only case to
    someone else, the volunteer who took it in can no longer read, edit or add to the client."""
    opened = submit(
        client,
        "/cases/new",
        {
            **{f"client-{k}": v for k, v in NEW_CLIENT.items()},
            "case-case_type": "other",
            "case-opened_on": "2025-03-03",
            "case-region": "Москва",
        },
    )
    assert opened.status_code == 302
    reference = opened.location.rsplit("/", 1)[-1]
    pseudonym = _pseudonym_of(client.get(opened.location).text)
    client_page = f"/clients/{pseudonym}"
    assert client.get(client_page).status_code == 200
    coordinator = app.test_client()
    login(coordinator, make.user("coordinator"))
    reassigned = submit(
        coordinator,
        f"/cases/{reference}/edit",
        {
            "case_type": "other",
            "opened_on": "2025-03-03",
            "region": "Москва",
            "assigned_to_id": str(make.user("volunteer").id),
        },
    )
    assert reassigned.status_code == 302
    for page in (client_page, f"{client_page}/edit", f"{client_page}/cases/new"):
        assert client.get(page).status_code == 404, page
    token = csrf_field(client.get("/clients").text)
    assert client.post(f"{client_page}/edit", data={**token, **NEW_CLIENT}).status_code == 404
    found = submit(client, "/clients", {"q": "Абдуллаева"}, action="/clients/search")
    assert found.status_code == 200 and pseudonym not in found.text
    assert pseudonym not in client.get("/clients").text


def test_a_volunteer_keeps_a_client_they_added_until_it_has_a_case(client, volunteer, make):
    added = submit(client, "/clients/new", NEW_CLIENT)
    pseudonym = added.location.rsplit("/", 1)[-1]
    assert client.get(f"/clients/{pseudonym}").status_code == 200
    other = make.user("volunteer")
    with make.app.app_context():
        from app.cases.services import open_case
        from app.clients.models import Client
        from app.extensions import db

        person = db.session.execute(
            sa.select(Client).where(Client.pseudonym == pseudonym)
        ).scalar_one()
        open_case(
            person,
            {"case_type": "other", "opened_on": date(2025, 3, 3), "region": "Москва"},
            by=db.session.merge(other),
        )
        db.session.commit()
    assert client.get(f"/clients/{pseudonym}").status_code == 404


def _pseudonym_of(page: str) -> str:
    return re.search(r"/clients/(P-[0-9A-Z]{4}-[0-9A-Z]{4})", page).group(1)
