"""Pages whose bodies are remembered (app/rendered.py): seen again they are the same page, they
change as soon as the data does, they are never another user's, and a session that ends stops
at once."""

import sqlalchemy as sa
from flask.testing import FlaskClient

from app.audit.models import AuditEvent
from app.extensions import db
from app.rendered import committed_stamp
from tests.databases import app_on_fresh_database
from tests.helpers import csrf_field, login, submit


def test_a_case_page_seen_again_shows_a_note_added_since(app, client, make):
    coordinator = make.user("coordinator")
    case = make.case(by=coordinator)
    login(client, coordinator)
    page = f"/cases/{case.reference}"
    assert "Hearing moved to Tuesday" not in client.get(page).text
    other = app.test_client()
    login(other, make.user("coordinator"))
    response = submit(
        other,
        page,
        {"kind": "note", "occurred_on": "2025-03-02", "body": "Hearing moved to Tuesday"},
        action=f"{page}/entries",
    )
    assert response.status_code == 302
    assert "Hearing moved to Tuesday" in client.get(page).text


def test_a_remembered_case_page_still_takes_a_note(client, make):
    volunteer = make.user("volunteer")
    case = make.case(by=volunteer)
    login(client, volunteer)
    page = f"/cases/{case.reference}"
    client.get(page)
    again = client.get(page).text  # the remembered body, with this session's form tokens
    response = client.post(
        f"{page}/entries",
        data={
            **csrf_field(again),
            "kind": "note",
            "occurred_on": "2025-03-02",
            "body": "Called the client",
        },
    )
    assert response.status_code == 302
    assert "Called the client" in client.get(page).text


def test_the_case_list_is_never_another_users(app, client, make):
    coordinator, volunteer = make.user("coordinator"), make.user("volunteer")
    theirs = make.case(by=coordinator)
    mine = make.case(by=volunteer)
    login(client, coordinator)
    assert theirs.reference in client.get("/cases").text
    other = app.test_client()
    login(other, volunteer)
    page = other.get("/cases").text
    assert mine.reference in page and theirs.reference not in page
    assert volunteer.email in page and coordinator.email not in page


def test_the_case_list_shows_a_new_case_at_once(client, make):
    coordinator = make.user("coordinator")
    login(client, coordinator)
    client.get("/cases")
    case = make.case(by=coordinator)
    assert case.reference in client.get("/cases").text


def test_the_dashboard_follows_the_language(client, make):
    login(client, make.user("coordinator"))
    assert "Dashboard" in client.get("/dashboard").text
    russian = client.get("/dashboard", headers={"Accept-Language": "ru"}).text
    assert "Нагрузка" in russian and "Workload" not in russian


def test_a_session_ended_by_an_admin_stops_at_once_on_a_remembered_page(app, client, make):
    volunteer, admin = make.user("volunteer"), make.user("admin")
    case = make.case(by=volunteer)
    login(client, volunteer)
    page = f"/cases/{case.reference}"
    assert client.get(page).status_code == 200
    assert client.get("/cases").status_code == 200
    staff = app.test_client()
    login(staff, admin)
    ended = submit(
        staff,
        f"/admin/users/{volunteer.id}",
        {},
        action=f"/admin/users/{volunteer.id}/sessions/end",
    )
    assert ended.status_code == 302
    for path in (page, "/cases"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location


def _event(session: sa.orm.Session) -> int:
    event = AuditEvent(via="cli", action="import", entity="case", changes={})
    session.add(event)
    session.flush()
    return event.id


def test_an_older_event_committed_after_a_newer_one_changes_the_stamp_on_postgresql(
    tmp_path,
):
    """On PostgreSQL ids are taken at insert: a slow transaction commits an older event after
    a newer one was seen. The newest event is then the same, the stamp is not."""
    with app_on_fresh_database("postgresql", tmp_path, "stamp") as app, app.app_context():
        slow, quick = (sa.orm.Session(db.engine) for _ in range(2))
        older = _event(slow)
        newer = _event(quick)
        quick.commit()
        assert older < newer
        before = committed_stamp()
        db.session.rollback()
        slow.commit()
        after = committed_stamp()
        assert before[0] == after[0] == newer  # the newest event: unchanged
        assert before != after
        slow.close(), quick.close()


def test_pages_ask_for_a_session_every_time(app, client: FlaskClient, make):
    """The remembered body spares the rendering, not the checks: each view reads its session
    and its user again (an ended session or a disabled user stops at once)."""
    volunteer = make.user("volunteer")
    login(client, volunteer)
    client.get("/cases")
    statements = []
    listen = lambda *a: statements.append(a[2])  # noqa: E731
    with app.app_context():
        connection = db.session.get_bind()
    sa.event.listen(connection, "before_cursor_execute", listen)
    try:
        client.get("/cases")
    finally:
        sa.event.remove(connection, "before_cursor_execute", listen)
    # The session and its user, read together in one round trip.
    assert any("FROM user_sessions" in s and "JOIN users" in s for s in statements)
