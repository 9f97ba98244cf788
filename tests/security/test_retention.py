"""Retention erases identifying data of clients whose cases closed long ago, and the numbers
the dashboard shows do not change."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.audit.queries import shown_changes
from app.clients.models import Client, ClientIndex
from app.dates import today
from app.extensions import db
from app.reports.queries import Filters, Period, report_rows
from tests.helpers import csrf_field, login, row_counts, submit

TODAY = today()


@pytest.fixture
def people(make, app):
    """An old closed case, a recent closed one, and an old client with a case still open."""
    old = make.client(full_name="Шералиев Бахром", phone="+998901112233")
    recent = make.client(full_name="Каримова Малика")
    busy = make.client(full_name="Рахимов Жасур")
    make.case(
        client=old,
        case_type="school_refusal",
        opened_on=TODAY - timedelta(days=900),
        outcome="success",
        closed_on=TODAY - timedelta(days=800),
        summary="Шералиев задержан",
        authority="Управление образования, инспектор Шералиева",
        school_name="Школа № 1234",
        school_grade="2 «Б»",
        refusal_on=TODAY - timedelta(days=905),
    )
    make.case(
        client=recent,
        opened_on=TODAY - timedelta(days=100),
        outcome="failure",
        closed_on=TODAY - timedelta(days=50),
    )
    make.case(
        client=busy,
        opened_on=TODAY - timedelta(days=900),
        outcome="withdrawn",
        closed_on=TODAY - timedelta(days=800),
    )
    make.case(client=busy, opened_on=TODAY - timedelta(days=10))
    return old, recent, busy


def _set_days(app, days):
    with app.app_context():
        from app.security.services import set_retention

        set_retention(days, by=None)
        db.session.commit()


def test_dry_run_counts_and_changes_nothing(app, people):
    _set_days(app, 365)
    result = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0 and "1 clients would" in result.output
    with app.app_context():
        assert (
            db.session.execute(
                sa.select(sa.func.count()).where(Client.erased_on.isnot(None))
            ).scalar()
            == 0
        )


def test_retention_erases_identifiers_and_keeps_the_numbers(app, people):
    old, recent, busy = people
    _set_days(app, 365)
    with app.app_context():
        before = report_rows(Period(), Filters())[0]
        history_before = (
            db.session.execute(
                sa.select(AuditEvent).where(
                    AuditEvent.entity == "clients", AuditEvent.entity_id == old.id
                )
            )
            .scalars()
            .first()
        )
    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert result.exit_code == 0 and "Erased the identifying data of 1 clients" in result.output
    with app.app_context():
        assert report_rows(Period(), Filters())[0] == before
        erased = db.session.get(Client, old.id)
        assert erased.is_erased and erased.full_name is None and erased.phone is None
        assert (
            erased.data_key is None
            and erased.pseudonym == old.pseudonym
            and erased.citizenship == "UZ"
        )
        case = erased.cases[0]
        assert (case.case_type, case.outcome, case.region, case.summary) == (
            "school_refusal",
            "success",
            "Москва",
            None,
        )
        # What the case says in words is gone, not only unreadable: the texts and the
        # deadline's title are cleared, its dates stay.
        texts = [case._authority, case._school_name, case._school_grade, case._summary]
        [deadline] = case.deadlines
        assert texts == [None] * 4 and (deadline._title, deadline._legal_basis) == (None, None)
        assert deadline.due_on is not None and deadline.shown_title == deadline.rule.name
        assert (
            db.session.execute(
                sa.select(ClientIndex).where(ClientIndex.client_id == old.id)
            ).first()
            is None
        )
        # The sealed copy of the name in the audit trail no longer opens.
        event = db.session.get(AuditEvent, history_before.id)
        assert (
            shown_changes(event, erased.sealing_key(), erased.pseudonym)["full_name"][1]
            == "(sealed)"
        )
        for kept in (recent, busy):
            assert db.session.get(Client, kept.id).full_name == kept.full_name
    # Running again erases nobody new.
    assert "0 clients" in app.test_cli_runner().invoke(args=["retention", "run"]).output


def test_retention_is_off_until_an_admin_sets_it(app, people, client, make):
    assert "Retention is off" in app.test_cli_runner().invoke(args=["retention", "run"]).output
    login(client, make.user("admin"))
    assert submit(client, "/admin/retention", {"days": "5"}).status_code == 422
    response = submit(client, "/admin/retention", {"days": "365"}, follow=True)
    assert "erases after 365 days" in response.text and "1 client would be erased" in response.text
    with app.app_context():
        # By the admin (retention run, above, also noted the calendar the deadlines follow).
        event = db.session.execute(
            sa.select(AuditEvent).where(
                AuditEvent.entity == "settings", AuditEvent.actor_id.isnot(None)
            )
        ).scalar_one()
        assert event.changes["retention_days"] == [None, 365]


def test_an_erased_client_page_says_so(client, make, app, people):
    old = people[0]
    _set_days(app, 365)
    app.test_cli_runner().invoke(args=["retention", "run"])
    login(client, make.user("coordinator"))
    page = client.get(f"/clients/{old.pseudonym}").text
    assert "(name erased)" in page and "Шералиев" not in page
    assert client.get("/cases").status_code == 200
    reference = re.search(r"/cases/(HQ-[0-9A-Z-]+)", page).group(1)
    case_page = client.get(f"/cases/{reference}")
    assert case_page.status_code == 200 and "Шералиев" not in case_page.text
    assert "Школа № 1234" not in case_page.text and "(sealed)" in case_page.text


def test_text_typed_for_an_erased_client_is_refused_beside_its_field(client, make, app, people):
    """No key is left to seal it with: the form says so, in the person's language, and nothing
    is written (it used to be a 500)."""
    old = people[0]
    _set_days(app, 365)
    app.test_cli_runner().invoke(args=["retention", "run"])
    coordinator = make.user("coordinator")
    login(client, coordinator)
    client.post("/language", data={**csrf_field(client.get("/cases").text), "locale": "ru"})
    page = client.get(f"/clients/{old.pseudonym}").text
    reference = re.search(r"/cases/(HQ-[0-9A-Z-]+)", page).group(1)
    before = row_counts(app)
    edit = f"/cases/{reference}/edit"
    form = client.get(edit).text
    version = re.search(r'name="version"[^>]*value="(\d+)"', form).group(1)
    fields = {
        "case_type": "school_refusal",
        "opened_on": (TODAY - timedelta(days=900)).isoformat(),
        "region": "Москва",
        "school_name": "Школа № 77",
        "version": version,
    }
    response = submit(client, edit, fields)
    assert response.status_code == 422
    assert "Данные заявителя удалены" in response.text
    note = {"kind": "note", "occurred_on": TODAY.isoformat(), "body": "позвонил Шералиев"}
    response = submit(client, f"/cases/{reference}", note, action=f"/cases/{reference}/entries")
    assert response.status_code == 422 and "Данные заявителя удалены" in response.text
    assert row_counts(app) == before
