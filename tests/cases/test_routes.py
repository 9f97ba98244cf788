"""Case pages through the test client: real forms, real CSRF tokens, real migrations."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.dates import today
from tests.helpers import csrf_field, login, row_counts, submit

INTAKE = {
    "client-full_name": "Худойбердиев Шерзод",
    "client-citizenship": "UZ",
    "client-phone": "+998 90 123-45-67",
    "client-preferred_language": "uz",
    "case-case_type": "deportation_challenge",
    "case-opened_on": "2025-03-03",
    "case-region": "Москва",
    "case-summary": "Протокол по ст. 18.8, суд назначил выдворение.",
    "case-offence_article": "КоАП 18.8 ч. 3.1",
    "case-ruling_on": "2025-03-01",
    "case-ruling_received_on": "2025-03-02",
}


@pytest.fixture
def volunteer(make, client):
    user = make.user("volunteer")
    login(client, user)
    return user


def _reference(response) -> str:
    assert response.status_code == 302, response.status_code
    return response.location.rsplit("/", 1)[-1]


def test_volunteer_logs_a_case_and_finds_it_in_the_list(client, volunteer):
    reference = _reference(submit(client, "/cases/new", INTAKE))
    page = client.get(f"/cases/{reference}")
    assert page.status_code == 200
    assert "Худойбердиев Шерзод" in page.text and "КоАП 18.8 ч. 3.1" in page.text
    listing = client.get("/cases")
    assert reference in listing.text and "Худойбердиев Шерзод" in listing.text


def test_intake_stores_the_phone_normalised(client, volunteer, app):
    reference = _reference(submit(client, "/cases/new", INTAKE))
    with app.app_context():
        from app.cases.queries import load_case_or_404
        from app.extensions import db

        case = load_case_or_404(reference, db.session.merge(volunteer))
        assert case.client.phone == "+998901234567"
        assert case.client.full_name == "Худойбердиев Шерзод"


def test_anonymous_visitor_is_sent_to_login(client, make):
    case = make.case()
    response = client.get(f"/cases/{case.reference}")
    assert response.status_code == 302 and response.location.startswith("/login")
    # The reference is not echoed back in the redirect for an anonymous visitor to read.
    assert client.get("/cases").status_code == 302


BAD_INTAKE = [
    ("client-full_name", "", "This field is required."),
    ("client-full_name", "   \u200b\u00a0  ", "This field is required."),
    ("client-full_name", "Я" * 201, "200"),
    ("client-citizenship", "XX", "Not a valid choice"),
    ("client-citizenship", "", "This field is required."),
    ("client-phone", "позвонить брату", "Enter a phone number"),
    ("client-born_on", "2099-01-01", "future"),
    ("case-case_type", "smuggling", "Not a valid choice"),
    ("case-case_type", "", "This field is required."),
    ("case-opened_on", "2025-02-30", "Not a valid date"),
    ("case-opened_on", "03.03.2025", "Not a valid date"),
    ("case-opened_on", "", "This field is required."),
    ("case-opened_on", "1812-09-07", "too far in the past"),
    ("case-opened_on", (today() + timedelta(days=1)).isoformat(), "future"),
    ("case-region", "", "This field is required."),
    ("case-region", "М" * 201, "200"),
    ("case-summary", "ж" * 10_001, "10000"),
    ("case-ruling_received_on", "2025-02-28", "before the ruling"),
    ("case-refusal_reason", "dislike", "Not a valid choice"),
]


@pytest.mark.parametrize(
    ("field", "value", "message"), BAD_INTAKE, ids=[f"{f}={v[:12]!r}" for f, v, _ in BAD_INTAKE]
)
def test_bad_intake_is_refused_beside_the_field_and_writes_nothing(
    client, volunteer, app, field, value, message
):
    before = row_counts(app)
    response = submit(client, "/cases/new", {**INTAKE, field: value})
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-error"' in response.text, "the error is not shown beside its field"
    assert row_counts(app) == before


def test_script_in_a_summary_is_shown_as_text(client, volunteer):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    reference = _reference(submit(client, "/cases/new", {**INTAKE, "case-summary": evil}))
    page = client.get(f"/cases/{reference}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_whatsapp_paste_is_cleaned(client, volunteer, app):
    pasted = {**INTAKE, "client-full_name": "\u200e Худойбердиев\u00a0\u00a0Шерзод \u200b\r\n"}
    reference = _reference(submit(client, "/cases/new", pasted))
    assert "Худойбердиев Шерзод</a>" in client.get(f"/cases/{reference}").text


def test_post_without_csrf_token_is_refused(client, volunteer, app):
    before = row_counts(app)
    response = client.post("/cases/new", data=INTAKE)
    assert response.status_code == 400
    assert row_counts(app) == before


def test_close_and_reopen_through_the_case_page(client, volunteer, make):
    case = make.case(by=volunteer, opened_on=date(2025, 1, 10))
    page = f"/cases/{case.reference}"
    response = submit(
        client,
        page,
        {"outcome": "partial", "closed_on": "2025-02-01", "note": "Штраф вместо выдворения"},
        action=f"{page}/close",
        follow=True,
    )
    assert response.status_code == 200
    assert "partial success" in response.text and "Штраф вместо выдворения" in response.text
    assert "Reopen case" in response.text and "Close case" not in response.text

    response = submit(
        client, page, {"note": "Апелляция прокурора"}, action=f"{page}/reopen", follow=True
    )
    assert "reopened" in response.text and "the outcome was: partial success" in response.text
    assert "Close case" in response.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"outcome": "partial", "closed_on": "2025-01-09"}, "cannot close before"),
        ({"outcome": "won", "closed_on": "2025-02-01"}, "Not a valid choice"),
        ({"outcome": "", "closed_on": "2025-02-01"}, "This field is required."),
        ({"outcome": "success", "closed_on": "2025-13-01"}, "Not a valid date"),
    ],
)
def test_bad_closing_is_refused_and_the_case_stays_open(
    client, volunteer, make, app, data, message
):
    case = make.case(by=volunteer, opened_on=date(2025, 1, 10))
    page = f"/cases/{case.reference}"
    before = row_counts(app)
    response = submit(client, page, data, action=f"{page}/close")
    assert response.status_code == 422 and message in response.text
    assert row_counts(app) == before
    assert "Close case" in client.get(page).text


def test_closing_a_case_someone_just_closed_is_refused(client, volunteer, make, app):
    """Two tabs, or two people: the second "close" must not overwrite the first outcome."""
    case = make.case(by=volunteer, opened_on=date(2025, 1, 10))
    page = f"/cases/{case.reference}"
    stale_token = csrf_field(client.get(page).text)
    first = submit(
        client, page, {"outcome": "failure", "closed_on": "2025-04-02"}, action=f"{page}/close"
    )
    assert first.status_code == 302
    before = row_counts(app)
    second = client.post(
        f"{page}/close", data={"outcome": "success", "closed_on": "2025-04-03", **stale_token}
    )
    assert second.status_code == 422 and "already closed" in second.text
    assert row_counts(app) == before
    assert "failure" in client.get(page).text


def test_timeline_entries_are_added_and_shown_in_date_order(client, volunteer, make):
    case = make.case(by=volunteer, opened_on=date(2025, 1, 10))
    page = f"/cases/{case.reference}"
    for kind, day, body in [
        ("hearing", "2025-03-20", "Заседание в суде"),
        ("filing", "2025-01-15", "Жалоба подана"),
    ]:
        response = submit(
            client, page, {"kind": kind, "occurred_on": day, "body": body}, action=f"{page}/entries"
        )
        assert response.status_code == 302
    text = client.get(page).text
    assert text.index("Жалоба подана") < text.index("Заседание в суде")


def test_empty_timeline_entry_is_refused(client, volunteer, make, app):
    case = make.case(by=volunteer)
    page = f"/cases/{case.reference}"
    before = row_counts(app)
    response = submit(
        client,
        page,
        {"kind": "note", "occurred_on": "2025-03-01", "body": "  "},
        action=f"{page}/entries",
    )
    assert response.status_code == 422 and "This field is required." in response.text
    assert row_counts(app) == before


def test_edit_case_changes_fields(client, volunteer, make):
    case = make.case(by=volunteer)
    page = f"/cases/{case.reference}/edit"
    response = submit(
        client,
        page,
        {
            "case_type": "school_refusal",
            "opened_on": "2025-03-01",
            "region": "Казань",
            "school_name": "Школа № 12",
            "school_grade": "1",
            "refusal_on": "2025-02-25",
            "refusal_reason": "language_test_failed",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Школа № 12" in response.text and "language test failed" in response.text
    assert "Казань" in response.text


def test_volunteer_gets_404_for_someone_elses_case(client, volunteer, make):
    other = make.user("volunteer")
    case = make.case(by=other)
    assert client.get(f"/cases/{case.reference}").status_code == 404
    assert client.get("/cases/HQ-0000-0000").status_code == 404
    assert case.reference not in client.get("/cases").text


def test_coordinator_assigns_and_the_volunteer_then_sees_it(client, make):
    coordinator, volunteer = make.user("coordinator"), make.user("volunteer")
    case = make.case(by=coordinator)
    login(client, coordinator)
    response = submit(
        client,
        f"/cases/{case.reference}/edit",
        {
            "case_type": "deportation_challenge",
            "opened_on": "2025-03-01",
            "region": "Москва",
            "assigned_to_id": str(volunteer.id),
        },
    )
    assert response.status_code == 302
    client.post("/logout", data=csrf_field(client.get("/cases").text))
    login(client, volunteer)
    assert client.get(f"/cases/{case.reference}").status_code == 200


class TestListFilters:
    @pytest.fixture
    def cases(self, make):
        coordinator = make.user("coordinator")
        volunteer = make.user("volunteer")
        made = {
            "open_school": make.case(
                by=coordinator,
                case_type="school_refusal",
                region="Казань",
                opened_on=date(2024, 9, 2),
            ),
            "won_deport": make.case(
                by=coordinator,
                region="Москва",
                opened_on=date(2025, 1, 5),
                outcome="success",
                closed_on=date(2025, 2, 1),
                assigned_to_id=volunteer.id,
            ),
            "lost_deport": make.case(
                by=coordinator,
                region="Москва",
                opened_on=date(2025, 6, 1),
                outcome="failure",
                closed_on=date(2025, 7, 1),
            ),
        }
        return coordinator, volunteer, {k: c.reference for k, c in made.items()}

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("", {"open_school", "won_deport", "lost_deport"}),
            ("case_type=school_refusal", {"open_school"}),
            ("status=open", {"open_school"}),
            ("status=closed", {"won_deport", "lost_deport"}),
            ("outcome=failure", {"lost_deport"}),
            ("region=Москва", {"won_deport", "lost_deport"}),
            ("assigned=none", {"open_school", "lost_deport"}),
            ("opened_from=2025-01-01&opened_to=2025-01-31", {"won_deport"}),
            ("opened_to=2024-12-31", {"open_school"}),
            ("status=closed&region=Москва&outcome=success", {"won_deport"}),
        ],
    )
    def test_filters_narrow_the_list(self, client, cases, query, expected):
        coordinator, _, refs = cases
        login(client, coordinator)
        text = client.get(f"/cases?{query}").text
        assert {k for k, ref in refs.items() if ref in text} == expected

    def test_filter_by_assignee(self, client, cases):
        coordinator, volunteer, refs = cases
        login(client, coordinator)
        text = client.get(f"/cases?assigned={volunteer.id}").text
        assert refs["won_deport"] in text and refs["lost_deport"] not in text

    @pytest.mark.parametrize(
        "query",
        [
            "opened_from=2025-02-30",
            "status=maybe",
            "case_type=<b>",
            "assigned=9999999999999999999",
            "opened_from=0001-01-01",
            "opened_to=9999-12-31",
        ],
    )
    def test_bad_filters_give_the_page_with_the_error(self, client, cases, query):
        coordinator, _, refs = cases
        login(client, coordinator)
        response = client.get(f"/cases?{query}")
        assert response.status_code == 422 and 'class="error"' in response.text
        assert refs["won_deport"] in response.text  # the bad filter is left out
        assert "<b>" not in response.text.split("<main>")[1]

    def test_pages_go_older_and_newer_keeping_the_filters(self, client, cases, app):
        coordinator, _, refs = cases
        login(client, coordinator)
        app.config["CASES_PER_PAGE"] = 2
        try:
            first = client.get("/cases?status=").text
            older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
            second = client.get(older).text
            newer = re.search(r'href="([^"]+)" rel="prev"', second).group(1).replace("&amp;", "&")
            back = client.get(newer).text
        finally:
            app.config["CASES_PER_PAGE"] = 25
        # Newest first: the two 2025 cases on page 1, the 2024 case on page 2, and back again.
        assert refs["open_school"] not in first and refs["open_school"] in second
        assert "3 cases found" in second and 'rel="next"' not in second
        assert (
            refs["won_deport"] in back and refs["lost_deport"] in back and 'rel="prev"' not in back
        )
        assert "status=" in older

    @pytest.mark.parametrize(
        "cursor",
        [
            "after=garbage",
            "before=2025-13-01.5",
            "after=.",
            "after=2025-01-01.x",
            "after=2025-01-01.12345678901234567890",  # once a 500: past what an id holds
            "before=2025-01-01.2147483648",
            "after=9999-12-31.1",
            "after=2025-01-01." + "1" * 5000,
        ],
    )
    def test_a_broken_cursor_shows_the_first_page_and_says_so(self, client, cases, cursor):
        coordinator, _, refs = cases
        login(client, coordinator)
        page = client.get(f"/cases?{cursor}")
        assert page.status_code == 422 and refs["won_deport"] in page.text
        assert "The link to that page of the list is broken" in page.text

    @pytest.mark.parametrize("page", ["page=-3", "page=abc"])
    def test_a_page_number_the_list_does_not_use_changes_nothing(self, client, cases, page):
        coordinator, _, refs = cases
        login(client, coordinator)
        response = client.get(f"/cases?{page}")
        assert response.status_code == 200 and refs["won_deport"] in response.text


def test_the_case_list_without_filters_shows_no_errors(client, volunteer):
    page = client.get("/cases").text
    assert 'class="error"' not in page and "Not a valid choice" not in page


def test_two_people_editing_one_case_the_second_save_is_refused(client, volunteer, make, app):
    coordinator = make.user("coordinator")
    case = make.case(by=volunteer, region="Москва", summary="Первое описание")
    page = f"/cases/{case.reference}/edit"
    mine = client.get(page).text  # the volunteer opens the form…
    other = app.test_client()
    login(other, coordinator)
    theirs = submit(
        other,
        page,
        {
            "case_type": "deportation_challenge",
            "opened_on": "2025-03-01",
            "region": "Казань",
            "authority": "Мещанский районный суд",
            "summary": "Описание координатора",
        },
    )
    assert theirs.status_code == 302  # …the coordinator saves first…
    version = re.search(r'name="version" type="hidden" value="(\d+)"', mine).group(1)
    late = client.post(
        page,
        data={
            **csrf_field(mine),
            "version": version,
            "case_type": "deportation_challenge",
            "opened_on": "2025-03-01",
            "region": "Тюмень",
            "authority": "Тверской районный суд",
            "summary": "Описание волонтёра",
        },
    )
    assert late.status_code == 409  # …and the volunteer's save is refused, showing both
    assert "Описание координатора" in late.text and "Описание волонтёра" in late.text
    assert "Казань" in late.text and "Тюмень" in late.text
    assert "Мещанский районный суд" in late.text and "Тверской районный суд" in late.text
    with app.app_context():
        from app.cases.models import Case
        from app.extensions import db

        saved = db.session.execute(
            sa.select(Case).where(Case.reference == case.reference)
        ).scalar_one()
        assert (saved.region, saved.summary) == ("Казань", "Описание координатора")


def test_the_database_refuses_a_stale_write_too(ctx, make):
    """Even if two saves pass the form check at the same moment, the version in the UPDATE
    stops the second."""
    from sqlalchemy.orm.exc import StaleDataError

    from app.cases.models import Case
    from app.extensions import db

    case = db.session.get(Case, make.case().id)
    db.session.connection().execute(
        sa.text("UPDATE cases SET version = version + 1 WHERE id = :id"), {"id": case.id}
    )
    case.region = "Самара"
    with pytest.raises(StaleDataError):
        db.session.flush()
