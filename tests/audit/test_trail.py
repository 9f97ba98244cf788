"""Every change to cases, clients, timeline entries and users leaves who, when and what."""

import logging
from datetime import date

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.audit.queries import shown_changes
from app.audit.services import BulkWriteRefused, UndeclaredActor
from app.cases.models import Case
from app.clients.models import Client
from app.extensions import db
from tests.cases.test_routes import INTAKE
from tests.factories import PASSWORD
from tests.helpers import login, submit


def _events(app, **where) -> list[AuditEvent]:
    with app.app_context():
        query = sa.select(AuditEvent).order_by(AuditEvent.id)
        for column, value in where.items():
            query = query.where(getattr(AuditEvent, column) == value)
        events = list(db.session.execute(query).scalars())
        db.session.expunge_all()
        return events


def _opened(app, event: AuditEvent) -> dict:
    """The event's changes with sealed values opened, as the case and client pages show them."""
    with app.app_context():
        if event.entity == "clients":
            owner = db.session.get(Client, event.entity_id)
            return shown_changes(event, owner.sealing_key(), owner.pseudonym)
        case = db.session.get(Case, event.case_id)
        return shown_changes(event, case.sealing_key(), case.reference)


@pytest.fixture
def volunteer(make, client):
    user = make.user("volunteer")
    login(client, user)
    return user


def test_intake_records_the_new_client_and_case_by_their_author(client, volunteer, app):
    before = len(_events(app))
    reference = submit(client, "/cases/new", INTAKE).location.rsplit("/", 1)[-1]
    events = _events(app)[before:]
    # The ruling's copy arrived on 2025-03-02: the appeal rule gives the case its deadline.
    assert [(e.action, e.entity) for e in events] == [
        ("duplicate_check", "clients"),
        ("insert", "clients"),
        ("insert", "cases"),
        ("insert", "deadlines"),
    ]
    assert {e.actor_id for e in events} == {volunteer.id} and {e.via for e in events} == {"web"}
    _check, client_event, case_event, deadline_event = events
    assert deadline_event.changes["due_on"] == [None, "2025-03-12"]
    # The name is sealed in the trail itself, and opens with the client's key.
    assert client_event.changes["full_name"][1].startswith("sealed:")
    assert "Худойбердиев" not in repr(client_event.changes)
    assert _opened(app, client_event)["full_name"] == [None, "Худойбердиев Шерзод"]
    assert case_event.changes["case_type"] == [None, "deportation_challenge"]
    assert case_event.changes["opened_on"] == [None, "2025-03-03"]
    assert "updated_at" not in case_event.changes
    with app.app_context():
        case_id = db.session.execute(sa.select(Case.id).where(Case.reference == reference)).scalar()
    assert case_event.case_id == case_id


def test_editing_a_case_records_each_changed_field_old_and_new(client, volunteer, make, app):
    case = make.case(by=volunteer, region="Москва", opened_on=date(2025, 3, 1))
    before = len(_events(app))
    submit(
        client,
        f"/cases/{case.reference}/edit",
        {
            "case_type": "deportation_challenge",
            "opened_on": "2025-03-01",
            "region": "Казань",
            "summary": "Новое описание",
        },
    )
    events = _events(app)[before:]
    assert [(e.entity, e.action) for e in events] == [("cases", "update")], [
        (e.entity, e.changes) for e in events
    ]
    [event] = events
    assert (event.action, event.entity, event.entity_id, event.actor_id) == (
        "update",
        "cases",
        case.id,
        volunteer.id,
    )
    assert _opened(app, event) == {
        "region": ["Москва", "Казань"],
        "summary": [None, "Новое описание"],
    }


def test_closing_and_reopening_are_in_the_trail(client, volunteer, make, app):
    case = make.case(by=volunteer, opened_on=date(2025, 1, 10))
    page = f"/cases/{case.reference}"
    before = len(_events(app))
    submit(client, page, {"outcome": "success", "closed_on": "2025-02-01"}, action=f"{page}/close")
    submit(client, page, {"note": "Прокурор обжаловал"}, action=f"{page}/reopen")
    events = [(e.action, e.entity, e.changes) for e in _events(app)[before:]]
    assert (
        "update",
        "cases",
        {"outcome": [None, "success"], "closed_on": [None, "2025-02-01"]},
    ) in events
    assert (
        "update",
        "cases",
        {"outcome": ["success", None], "closed_on": ["2025-02-01", None]},
    ) in events
    kinds = [c["kind"][1] for action, entity, c in events if entity == "timeline_entries"]
    assert kinds == ["closed", "reopened"]
    assert all(e.case_id == case.id for e in _events(app)[before:])


def test_timeline_entry_is_recorded(client, volunteer, make, app):
    case = make.case(by=volunteer)
    before = len(_events(app))
    page = f"/cases/{case.reference}"
    submit(
        client,
        page,
        {"kind": "hearing", "occurred_on": "2025-04-04", "body": "Заседание"},
        action=f"{page}/entries",
    )
    [event] = _events(app)[before:]
    assert (event.entity, event.case_id, _opened(app, event)["body"]) == (
        "timeline_entries",
        case.id,
        [None, "Заседание"],
    )


def test_editing_a_client_is_recorded(client, volunteer, make, app):
    person = make.client(by=volunteer, phone="+998901234567")
    before = len(_events(app))
    submit(
        client,
        f"/clients/{person.pseudonym}/edit",
        {
            "full_name": person.full_name,
            "citizenship": "KG",
            "phone": "+996 555 11 22 33",
        },
    )
    [event] = _events(app)[before:]
    # The unchanged name is not in the event; the phone is, sealed both ways.
    assert _opened(app, event) == {
        "citizenship": ["UZ", "KG"],
        "phone": ["+998901234567", "+996555112233"],
    }
    assert "+99890" not in repr(event.changes)


def test_user_changes_are_recorded_and_passwords_never_appear(client, make, app, caplog):
    caplog.set_level(logging.DEBUG)
    admin = make.user("admin")
    login(client, admin)
    before = len(_events(app))
    secret = "a brand new staff passphrase"
    response = submit(
        client,
        "/admin/users/new",
        {
            "email": "new@example.org",
            "role": "volunteer",
            "password": secret,
            "confirm": secret,
        },
    )
    assert response.status_code == 302
    [created] = _events(app)[before:]
    assert created.changes["role"] == [None, "volunteer"] and created.actor_id == admin.id
    assert created.changes["password_hash"] == [None, "[redacted]"]
    user_id = created.entity_id
    submit(client, f"/admin/users/{user_id}", {"role": "coordinator", "is_enabled": "y"})
    [changed] = _events(app)[before + 1 :]
    assert changed.changes == {"role": ["volunteer", "coordinator"]}
    everything = repr([e.changes for e in _events(app)]) + caplog.text
    assert secret not in everything and "$argon2" not in everything
    token = client.get_cookie("huquq_session").value
    assert token not in everything


def test_the_case_page_shows_its_history(client, volunteer, make):
    case = make.case(by=volunteer, region="Москва")
    submit(
        client,
        f"/cases/{case.reference}/edit",
        {
            "case_type": "deportation_challenge",
            "opened_on": "2025-03-01",
            "region": "Тюмень",
        },
    )
    page = client.get(f"/cases/{case.reference}").text
    history = page.split("History of changes")[1]
    assert "region: Москва → Тюмень" in history and volunteer.email in history


def test_a_bulk_update_of_an_audited_table_is_refused(ctx, make):
    make.case()
    with pytest.raises(BulkWriteRefused):
        db.session.execute(sa.update(Case).values(region="везде"))
    with pytest.raises(BulkWriteRefused):
        db.session.execute(sa.delete(Client))


def test_a_write_without_a_declared_actor_is_refused(app):
    with app.app_context():
        db.session.info.clear()
        db.session.add(Client(full_name="Никто", citizenship="UZ"))
        with pytest.raises(UndeclaredActor):
            db.session.flush()
        db.session.rollback()


def test_audit_page_filters_by_user_case_and_date(client, make, app, clock):
    admin, volunteer = make.user("admin"), make.user("volunteer")
    make.case(by=volunteer)
    clock.advance(days=3)
    second = make.case(by=admin)
    login(client, admin)
    by_volunteer = client.get(f"/admin/audit?user={volunteer.id}").text
    assert by_volunteer.count("<li>") == 2  # the first case and its client
    assert "2 events" in by_volunteer
    by_case = client.get(f"/admin/audit?case={second.reference.lower()}").text
    assert by_case.count("<li>") == 1 and "case <strong>created</strong>" in by_case
    day = clock.now.date().isoformat()
    on_day = client.get(f"/admin/audit?occurred_from={day}&occurred_to={day}").text
    assert on_day.count("<li>") == 2 and "2026-03-05" in on_day and "2026-03-02" not in on_day
    unknown = client.get("/admin/audit?case=HQ-0000-0000").text
    assert "No case has this reference." in unknown and "<li>" not in unknown


@pytest.mark.parametrize("role", ["volunteer", "coordinator"])
def test_only_admins_read_the_audit_trail(client, make, role):
    login(client, make.user(role))
    assert client.get("/admin/audit").status_code == 403


def test_cli_writes_are_recorded_as_command_line(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "cli@example.org", "--role", "volunteer"], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0
    [event] = _events(app, entity="users")
    assert (event.via, event.actor_id, event.action) == ("cli", None, "insert")


def test_a_deletion_keeps_every_old_value_in_the_trail(ctx, make):
    case = make.case(summary="Удалить по ошибке добавленное")
    entry = db.session.get(Case, case.id)
    from app.cases.services import add_timeline_entry

    note = add_timeline_entry(entry, "note", date(2025, 3, 2), "Черновик", by=None)
    db.session.commit()
    db.session.expire_all()  # nothing loaded: the trail must still read the old values
    db.session.delete(db.session.get(type(note), note.id))
    db.session.flush()
    [event] = (
        db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "delete"))
        .scalars()
        .all()
    )
    assert (event.entity, event.case_id) == ("timeline_entries", case.id)
    case = db.session.get(Case, case.id)
    opened = shown_changes(event, case.sealing_key(), case.reference)
    assert opened["body"] == ["Черновик", None] and opened["kind"] == ["note", None]
