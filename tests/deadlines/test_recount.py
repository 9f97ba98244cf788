"""Open deadlines follow the installed calendar library by themselves: counted with another
version (an upgrade brought next year's decree, or the database comes from the version that
kept its own calendar), they are counted again by the housekeeping, once."""

from datetime import timedelta

import sqlalchemy as sa

from app.audit.services import acting
from app.cases.workdays import CALENDAR_SOURCE
from app.dates import today
from app.deadlines.models import Deadline
from app.extensions import db
from app.security.models import Setting


def _stale_deadline(app, make):
    """A case whose appeal deadline ahead was counted by an older calendar: a day later than
    the installed one says; the settings name that older calendar."""
    admin = make.user("admin")
    with app.app_context():
        received = today() - timedelta(days=2)
    case = make.case(by=admin, ruling_received_on=received, opened_on=received)
    with app.app_context():
        acting(None)  # changed behind the app's back, as by an older version
        deadline = db.session.execute(
            sa.select(Deadline).where(Deadline.case_id == case.id)
        ).scalar_one()
        right = deadline.due_on
        deadline.due_on = right + timedelta(days=1)
        settings = db.session.get(Setting, 1) or Setting(id=1)
        settings.calendar_counted = "holidays 0.50"
        db.session.add(settings)
        db.session.commit()
        return deadline.id, right


def _state(app, deadline_id):
    with app.app_context():
        due = db.session.get(Deadline, deadline_id).due_on
        return due, db.session.get(Setting, 1).calendar_counted


def test_a_page_served_counts_deadlines_from_another_calendar_again_once(app, make, monkeypatch):
    deadline_id, right = _stale_deadline(app, make)
    monkeypatch.setitem(app.config, "HOUSEKEEPING_EVERY", 300)
    monkeypatch.delitem(app.extensions, "huquq.housekeeping", raising=False)  # a new worker
    app.test_client().get("/healthz").close()  # housekeeping runs once the response is sent
    assert _state(app, deadline_id) == (right, CALENDAR_SOURCE)
    # Counted with this calendar now: the next turn leaves a deadline alone.
    with app.app_context():
        acting(None)
        db.session.get(Deadline, deadline_id).due_on = right + timedelta(days=3)
        db.session.commit()
    monkeypatch.delitem(app.extensions, "huquq.housekeeping")
    app.test_client().get("/healthz").close()
    assert _state(app, deadline_id) == (right + timedelta(days=3), CALENDAR_SOURCE)


def test_retention_run_counts_them_again_too_and_says_so(app, make):
    deadline_id, right = _stale_deadline(app, make)
    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert f"counted again with {CALENDAR_SOURCE}" in result.output
    assert _state(app, deadline_id) == (right, CALENDAR_SOURCE)
