"""Hearings with a time and a place, the coordinators' deadlines page by due date, and the
calendar feed a phone reads: in its owner's language, with reminders, in the right zone."""

import html
import re
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from app.cases.models import Case, TimelineEntry
from app.cases.services import add_deadline, add_timeline_entry, close_case
from app.dates import today
from app.extensions import db
from tests.helpers import csrf_field, login, row_counts, submit

TODAY = today()
AHEAD = TODAY + timedelta(days=9)


@pytest.fixture
def volunteer(make, client):
    user = make.user("volunteer")
    login(client, user)
    return user


def _add_hearing(client, reference: str, **fields):
    data = {
        "kind": "hearing",
        "occurred_on": AHEAD.isoformat(),
        "body": "Шералиев придёт с переводчиком",
        **fields,
    }
    return submit(client, f"/cases/{reference}", data, action=f"/cases/{reference}/entries")


def test_a_hearing_gets_a_time_and_a_place_sealed(client, volunteer, make, app):
    case = make.case(by=volunteer)
    page = client.get(f"/cases/{case.reference}").text
    assert 'name="hearing_time"' in page and 'name="court"' in page and 'name="room"' in page
    done = _add_hearing(
        client,
        case.reference,
        hearing_time="14.30",  # as many people write it
        court="Тверской районный суд",
        room="512",
    )
    assert done.status_code == 302
    page = client.get(f"/cases/{case.reference}").text
    assert "14:30 · Тверской районный суд · courtroom 512" in page
    with app.app_context():
        entry = db.session.execute(
            sa.select(TimelineEntry).where(
                TimelineEntry.case_id == case.id, TimelineEntry.kind == "hearing"
            )
        ).scalar_one()
        assert entry.hearing_time == time(14, 30) and entry.court == "Тверской районный суд"
        raw = db.session.execute(
            sa.text("SELECT court, room FROM timeline_entries WHERE id = :id"), {"id": entry.id}
        ).one()
        assert "Тверской".encode() not in bytes(raw.court) and b"5" not in bytes(raw.room)[:0]


def test_a_hearing_without_a_time_and_a_note_without_a_place(client, volunteer, make, app):
    case = make.case(by=volunteer)
    assert _add_hearing(client, case.reference).status_code == 302
    note = {"kind": "note", "occurred_on": TODAY.isoformat(), "body": "звонил", "court": "суд"}
    ref = case.reference
    assert submit(client, f"/cases/{ref}", note, action=f"/cases/{ref}/entries").status_code == 302
    with app.app_context():
        entries = db.session.execute(
            sa.select(TimelineEntry).where(TimelineEntry.case_id == case.id)
        ).scalars()
        assert all(e.court is None and e.hearing_time is None for e in entries)


@pytest.mark.parametrize("bad", ["25:00", "2pm", "1430", "14:30:99"])
def test_a_bad_hearing_time_is_refused_beside_the_field(client, volunteer, make, app, bad):
    case = make.case(by=volunteer)
    before = row_counts(app)
    refused = _add_hearing(client, case.reference, hearing_time=bad)
    assert refused.status_code == 422
    assert 'id="hearing_time-error"' in refused.text
    assert "Enter the time as hours and minutes, e.g. 14:30." in refused.text
    assert row_counts(app) == before


@pytest.fixture
def office(make, app):
    """Anna has an appeal overdue by 3 days and a claim due in 20 days; Boris a hearing ahead
    and a closed case whose hearing and open deadline are no one's work any more."""
    anna = make.user("volunteer", email="anna@example.org")
    boris = make.user("volunteer", email="boris@example.org")
    coordinator = make.user("coordinator")
    person = make.client(full_name="Шералиев Бахром")
    overdue = make.case(client=person, by=coordinator, assigned_to_id=anna.id)
    later = make.case(by=coordinator, assigned_to_id=anna.id, case_type="school_refusal")
    heard = make.case(by=coordinator, assigned_to_id=boris.id)
    closed = make.case(by=coordinator, assigned_to_id=boris.id)
    with app.app_context():
        get = lambda c: db.session.get(Case, c.id)  # noqa: E731
        add_deadline(get(overdue), TODAY - timedelta(days=3), "Жалоба Шералиева", by=None)
        add_deadline(get(later), TODAY + timedelta(days=20), "Иск", by=None)
        add_deadline(get(heard), TODAY + timedelta(days=1), "Ходатайство", by=None)
        add_timeline_entry(
            get(heard),
            "hearing",
            AHEAD,
            "Шералиев в суде",
            by=None,
            hearing_time=time(14, 30),
            court="Тверской районный суд",
            room="512",
        )
        add_deadline(get(closed), TODAY + timedelta(days=2), "Ответ", by=None)
        add_timeline_entry(get(closed), "hearing", AHEAD, "Заседание", by=None)
        close_case(get(closed), "withdrawn", TODAY, by=None)
        db.session.commit()
    return {
        "anna": anna,
        "boris": boris,
        "coordinator": coordinator,
        "overdue": overdue,
        "later": later,
        "heard": heard,
        "closed": closed,
    }


def test_the_coordinators_page_lists_by_due_date_or_by_volunteer(client, office):
    login(client, office["coordinator"])
    page = client.get("/deadlines").text
    order = [office[k].reference for k in ("overdue", "heard", "later")]
    assert [page.index(r) for r in order] == sorted(page.index(r) for r in order)
    assert "overdue by 3 days" in page and "1 day left" in page and "20 days left" in page
    assert office["closed"].reference not in page, "a closed case's work left the page"
    assert "14:30" in page  # the hearing's time, in the hearings by week
    grouped = client.get("/deadlines?by=volunteer").text
    anna, boris = grouped.index("anna@example.org"), grouped.index("boris@example.org")
    assert (
        anna < grouped.index(office["overdue"].reference) < grouped.index(office["later"].reference)
    )
    assert anna < boris < grouped.index(office["heard"].reference, boris)
    assert 'href="/deadlines?by=volunteer" aria-current="page"' in grouped
    client.post("/language", data={**csrf_field(page), "locale": "ru"})
    russian = client.get("/deadlines").text
    assert "просрочен на 3 дня" in russian and "По ответственным" in russian


def test_a_volunteer_sees_their_own_without_the_toggle(client, office):
    login(client, office["anna"])
    page = client.get("/deadlines").text
    assert office["overdue"].reference in page and office["heard"].reference not in page
    assert "by=volunteer" not in page
    assert "boris@example.org" not in client.get("/deadlines?by=volunteer").text


def _feed(app, client, user) -> tuple[str, Calendar]:
    login(client, user)
    page = client.post(
        "/account/calendar", data=csrf_field(client.get("/account/calendar").text)
    ).text
    link = html.unescape(page.split('<code class="secret">')[1].split("</code>")[0])
    response = app.test_client().get(link.split("localhost", 1)[1])
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    body = response.get_data(as_text=True)
    return body, Calendar.from_ical(body)


def _events(calendar: Calendar) -> dict[str, object]:
    return {str(e["summary"]): e for e in calendar.walk("VEVENT")}


def test_the_feed_in_russian_with_reminders_and_moscow_time(app, client, office):
    with app.app_context():
        boris = db.session.get(type(office["boris"]), office["boris"].id)
        boris.locale = "ru"
        db.session.commit()
    body, calendar = _feed(app, client, office["boris"])
    heard, closed = office["heard"].reference, office["closed"].reference
    events = _events(calendar)
    deadline = events[f"Срок: обжалование выдворения — {heard}"]
    hearing = events[f"Заседание: обжалование выдворения — {heard}"]
    assert closed not in body, "a closed case's hearing and deadline left the feed"
    # A deadline is the law's last day: a whole day, the same in every zone.
    start = deadline.decoded("dtstart")
    assert isinstance(start, date) and not isinstance(start, datetime)
    assert start == TODAY + timedelta(days=1)
    # A hearing starts at its local time in HUQUQ_TIMEZONE, with the zone in the feed.
    start = hearing.decoded("dtstart")
    assert start.replace(tzinfo=None) == datetime.combine(AHEAD, time(14, 30))
    assert str(start.tzinfo) == "Europe/Moscow" and start.utcoffset() == timedelta(hours=3)
    assert [str(z["tzid"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Moscow"]
    # Reminders: the day before, and on the morning of the day at 09:00.
    triggers = lambda e: sorted(a.decoded("trigger") for a in e.walk("VALARM"))  # noqa: E731
    assert triggers(deadline) == [-timedelta(hours=15), timedelta(hours=9)]
    assert triggers(hearing) == [-timedelta(days=1), -timedelta(hours=5, minutes=30)]
    assert all(a["action"] == "DISPLAY" for a in calendar.walk("VALARM"))
    # Only the reference and the case type: no client, no typed text, no court or room.
    for secret in ("Шералиев", "Бахром", "Ходатайство", "Тверской", "512"):
        assert secret not in body


def test_the_feed_speaks_english_to_an_english_account(app, client, office):
    body, calendar = _feed(app, client, office["anna"])  # no language chosen: English
    events = _events(calendar)
    overdue = office["overdue"].reference
    assert f"Deadline: deportation challenge — {overdue}" in events
    assert f"Deadline: school refusal — {office['later'].reference}" in events
    assert "Шералиев" not in body and "Жалоба" not in body
    assert re.search(r"BEGIN:VALARM", body)
