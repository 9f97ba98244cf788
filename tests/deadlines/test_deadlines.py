"""Deadlines a person cannot overlook: from the law's rules, on the case page, on the deadlines
page, in the calendar feed and on the dashboard."""

import html
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.cases.models import Case, TimelineEntry
from app.dates import today
from app.deadlines.models import Deadline
from app.extensions import db
from tests.helpers import csrf_field, login, row_counts, submit

TODAY = today()


def _deadlines(app, case_id: int) -> list[Deadline]:
    """The case's deadlines, readable after the app context ends (their texts are sealed with
    the client's key: it is opened here, while the keys are at hand)."""
    with app.app_context():
        rows = (
            db.session.execute(
                sa.select(Deadline)
                .where(Deadline.case_id == case_id)
                .options(sa.orm.joinedload(Deadline.case).joinedload(Case.client))
                .order_by(Deadline.id)
            )
            .scalars()
            .all()
        )
        for row in rows:
            row.sealing_key()
        db.session.expunge_all()
        return rows


@pytest.fixture
def volunteer(make, client):
    user = make.user("volunteer")
    login(client, user)
    return user


def test_the_appeal_deadline_follows_the_ruling_copy_date(client, volunteer, make, app):
    case = make.case(by=volunteer, ruling_received_on=date(2025, 3, 4), opened_on=date(2025, 3, 5))
    [deadline] = _deadlines(app, case.id)
    assert (deadline.due_on, deadline.title) == (date(2025, 3, 14), "Жалоба на постановление")
    assert "ст. 30.3" in deadline.legal_basis
    # A corrected date moves the open deadline (Sat 15 Mar → Mon 17 Mar).
    submit(
        client,
        f"/cases/{case.reference}/edit",
        {
            "case_type": "deportation_challenge",
            "opened_on": "2025-03-05",
            "region": "Москва",
            "ruling_received_on": "2025-03-05",
        },
    )
    [deadline] = _deadlines(app, case.id)
    assert deadline.due_on == date(2025, 3, 17)


def test_school_and_registry_claims_get_three_months(make, app):
    school = make.case(
        case_type="school_refusal", refusal_on=date(2025, 11, 30), opened_on=date(2025, 12, 1)
    )
    registry = make.case(
        case_type="registry_error",
        decision_learned_on=date(2025, 6, 10),
        opened_on=date(2025, 6, 11),
    )
    assert _deadlines(app, school.id)[0].due_on == date(2026, 3, 2)  # 28 Feb 2026 is a Saturday
    assert _deadlines(app, registry.id)[0].due_on == date(2025, 9, 10)
    assert "ст. 219" in _deadlines(app, registry.id)[0].legal_basis


def test_the_case_page_shows_days_left_and_urgency(client, volunteer, make, app):
    case = make.case(by=volunteer)
    with app.app_context():
        from app.cases.services import add_deadline

        for days, title in ((-2, "Просрочено"), (2, "Скоро"), (20, "Потом")):
            add_deadline(
                db.session.get(Case, case.id), TODAY + timedelta(days=days), title, by=None
            )
        db.session.commit()
    page = html.unescape(client.get(f"/cases/{case.reference}").text)
    overdue, urgent, later = (
        page.split('<li class="deadline ')[i].split("</li>")[0] for i in (1, 2, 3)
    )
    assert overdue.startswith("overdue") and "overdue by 2 days" in overdue
    assert urgent.startswith("urgent") and "2 days left" in urgent
    assert later.startswith('"') and "20 days left" in later


def _act(client, case, deadline_id, data):
    page = f"/cases/{case.reference}"
    token = csrf_field(client.get(page).text)
    prefixed = {f"d{deadline_id}-{k}": v for k, v in data.items()}
    return client.post(f"{page}/deadlines/{deadline_id}", data={**token, **prefixed})


def test_met_missed_extended_and_restored_go_into_the_timeline(client, volunteer, make, app):
    case = make.case(by=volunteer, ruling_received_on=date(2025, 3, 4), opened_on=date(2025, 3, 5))
    [deadline] = _deadlines(app, case.id)
    assert (
        _act(
            client,
            case,
            deadline.id,
            {"action": "extended", "on": "2025-03-24", "note": "Ходатайство удовлетворено"},
        ).status_code
        == 302
    )
    assert (
        _act(client, case, deadline.id, {"action": "missed", "on": "2025-03-25"}).status_code == 302
    )
    assert (
        _act(client, case, deadline.id, {"action": "extended", "on": "2025-04-10"}).status_code
        == 302
    )
    assert _act(client, case, deadline.id, {"action": "met", "on": "2025-04-09"}).status_code == 302
    [deadline] = _deadlines(app, case.id)
    assert (deadline.status, deadline.resolved_on, deadline.due_on, deadline.is_extended) == (
        "met",
        date(2025, 4, 9),
        date(2025, 4, 10),
        True,
    )
    with app.app_context():
        kinds = (
            db.session.execute(
                sa.select(TimelineEntry.kind)
                .where(TimelineEntry.case_id == case.id)
                .order_by(TimelineEntry.id)
            )
            .scalars()
            .all()
        )
    assert kinds == ["term_extended", "term_missed", "term_restored", "term_met"]
    page = html.unescape(client.get(f"/cases/{case.reference}").text)
    assert "deadline extended" in page and "2025-03-14 → 2025-03-24" in page
    # A met deadline cannot change again; an extended one is no longer recomputed.
    refused = _act(client, case, deadline.id, {"action": "missed", "on": "2025-04-11"})
    assert refused.status_code == 422


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "", "on": "2025-03-20"}, "This field is required."),
        ({"action": "eaten", "on": "2025-03-20"}, "Not a valid choice"),
        ({"action": "met", "on": "2025-02-30"}, "Not a valid date"),
        ({"action": "met", "on": (TODAY + timedelta(days=3)).isoformat()}, "in the future"),
        ({"action": "extended", "on": "2025-03-10"}, "moves the deadline later"),
    ],
)
def test_bad_deadline_actions_are_refused_and_change_nothing(
    client, volunteer, make, app, data, message
):
    case = make.case(by=volunteer, ruling_received_on=date(2025, 3, 4), opened_on=date(2025, 3, 5))
    [deadline] = _deadlines(app, case.id)
    before = row_counts(app)
    response = _act(client, case, deadline.id, data)
    assert response.status_code == 422 and message in html.unescape(response.text)
    assert row_counts(app) == before and _deadlines(app, case.id)[0].status == "open"


def test_a_deadline_of_another_case_is_404(client, volunteer, make, app):
    mine = make.case(by=volunteer)
    theirs = make.case(
        by=volunteer, ruling_received_on=date(2025, 3, 4), opened_on=date(2025, 3, 5)
    )
    [deadline] = _deadlines(app, theirs.id)
    assert _act(client, mine, deadline.id, {"action": "met", "on": "2025-03-10"}).status_code == 404


def test_add_a_deadline_by_hand(client, volunteer, make, app):
    case = make.case(by=volunteer)
    page = f"/cases/{case.reference}"
    response = submit(
        client,
        page,
        {"title": "Подать ходатайство", "due_on": "2026-02-02", "legal_basis": "по указанию суда"},
        action=f"{page}/deadlines",
    )
    assert response.status_code == 302
    [deadline] = _deadlines(app, case.id)
    assert (deadline.title, deadline.due_on, deadline.rule_id) == (
        "Подать ходатайство",
        date(2026, 2, 2),
        None,
    )
    before = row_counts(app)
    bad = submit(client, page, {"title": "", "due_on": "2026-02-31"}, action=f"{page}/deadlines")
    assert bad.status_code == 422 and row_counts(app) == before


def test_deadlines_page_per_role(client, make, app):
    anna, boris = (
        make.user("volunteer", email="anna@example.org"),
        make.user("volunteer", email="boris@example.org"),
    )
    coordinator = make.user("coordinator")
    overdue = make.case(by=coordinator, assigned_to_id=anna.id)
    soon = make.case(by=coordinator, assigned_to_id=boris.id)
    later = make.case(by=coordinator, assigned_to_id=anna.id)
    with app.app_context():
        from app.cases.services import add_deadline, add_timeline_entry

        add_deadline(db.session.get(Case, overdue.id), TODAY - timedelta(days=2), "Жалоба", by=None)
        add_deadline(db.session.get(Case, soon.id), TODAY + timedelta(days=3), "Иск", by=None)
        add_deadline(db.session.get(Case, later.id), TODAY + timedelta(days=20), "Ответ", by=None)
        add_timeline_entry(
            db.session.get(Case, soon.id),
            "hearing",
            TODAY + timedelta(days=5),
            "Заседание",
            by=None,
        )
        db.session.commit()
    login(client, anna)
    page = client.get("/deadlines").text
    assert overdue.reference in page and later.reference in page and soon.reference not in page
    assert page.index(overdue.reference) < page.index(later.reference)
    login(client2 := app.test_client(), coordinator)
    page = client2.get("/deadlines").text
    assert "anna@example.org" in page and "boris@example.org" in page
    assert all(c.reference in page for c in (overdue, soon, later))
    assert "Week of" in page and page.count(f">{soon.reference}</a>") == 2  # deadline and hearing


def test_the_calendar_feed_names_no_client(client, make, app):
    volunteer = make.user("volunteer")
    person = make.client(full_name="Шералиев Бахром")
    case = make.case(
        client=person,
        by=volunteer,
        ruling_received_on=TODAY - timedelta(days=1),
        opened_on=TODAY - timedelta(days=1),
    )
    with app.app_context():
        from app.cases.services import add_deadline, add_timeline_entry

        add_deadline(
            db.session.get(Case, case.id),
            TODAY + timedelta(days=40),
            "Позвонить Шералиеву Бахрому",
            by=None,
        )
        add_timeline_entry(
            db.session.get(Case, case.id),
            "hearing",
            TODAY + timedelta(days=9),
            "Шералиев в суде",
            by=None,
        )
        db.session.commit()
    login(client, volunteer)
    page = client.post(
        "/account/calendar", data=csrf_field(client.get("/account/calendar").text)
    ).text
    link = html.unescape(page.split('<code class="secret">')[1].split("</code>")[0])
    path = link.split("localhost", 1)[1]
    feed = app.test_client().get(path)
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("text/calendar")
    body = feed.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.count("BEGIN:VEVENT") == 3
    assert case.reference in body and "deportation challenge" in body
    assert "Шералиев" not in body and "Бахром" not in body
    # A new link ends the old one.
    client.post("/account/calendar", data=csrf_field(client.get("/account/calendar").text))
    assert app.test_client().get(path).status_code == 404
    assert app.test_client().get("/calendar/guess.ics").status_code == 404


def test_a_new_holiday_moves_the_deadlines_ahead(client, make, app):
    admin = make.user("admin")
    with app.app_context():
        zone_today = today()  # the date in HUQUQ_TIMEZONE, as the recount reads it
    received = zone_today + timedelta(days=1) - timedelta(days=11)  # due ≈ tomorrow or later
    case = make.case(by=admin, ruling_received_on=received, opened_on=received)
    [before] = _deadlines(app, case.id)
    login(client, admin)
    day = before.due_on
    kind = "holiday" if day.weekday() < 5 else "working"
    response = submit(
        client, "/admin/calendar", {"day": day.isoformat(), "kind": kind, "note": "перенос"}
    )
    assert response.status_code == 302
    [after] = _deadlines(app, case.id)
    assert after.due_on > before.due_on if kind == "holiday" else after.due_on <= before.due_on
    refused = submit(client, "/admin/calendar", {"day": "2030-07-03", "kind": "working"})
    assert refused.status_code == 422 and "as a working day already" in html.unescape(refused.text)


def test_changing_a_rule_moves_open_deadlines_ahead(client, make, app):
    admin = make.user("admin")
    case = make.case(by=admin, ruling_received_on=TODAY, opened_on=TODAY)
    login(client, admin)
    response = submit(
        client,
        "/admin/deadline-rules/1",
        {
            "name": "Жалоба на постановление",
            "case_type": "deportation_challenge",
            "trigger": "ruling_received_on",
            "length": "20",
            "unit": "days",
            "legal_basis": "KoAP 30.3 (test)",
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    [deadline] = _deadlines(app, case.id)
    assert deadline.due_on >= TODAY + timedelta(days=20)


def test_the_dashboard_shows_the_workload(client, make, app):
    coordinator, anna = make.user("coordinator"), make.user("volunteer", email="anna@example.org")
    case = make.case(by=coordinator, assigned_to_id=anna.id)
    with app.app_context():
        from app.cases.services import add_deadline

        add_deadline(db.session.get(Case, case.id), TODAY - timedelta(days=1), "x", by=None)
        add_deadline(db.session.get(Case, case.id), TODAY + timedelta(days=2), "y", by=None)
        db.session.commit()
    login(client, coordinator)
    page = client.get("/dashboard").text
    row = page.split("anna@example.org</td>")[1].split("</tr>")[0]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[:3]] == ["1", "1", "1"]
