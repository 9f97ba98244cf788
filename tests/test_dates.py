"""One "today": the date where the organisation works (HUQUQ_TIMEZONE), never the server
clock's own. The server here runs in UTC; Moscow is UTC+3, so from 21:00 UTC it is already
tomorrow there."""

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app import dates, models_base
from app.cases.models import Case
from app.cases.services import add_deadline
from app.extensions import db
from tests.helpers import login, submit

APP = Path(__file__).resolve().parent.parent / "app"


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """The app's one clock (models_base.utcnow), held at 21:30 UTC on 9 March 2026."""
    frozen = _Clock(datetime(2026, 3, 9, 21, 30, tzinfo=UTC))
    monkeypatch.setattr(models_base, "utcnow", frozen)
    return frozen


@pytest.fixture
def moscow(app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Europe/Moscow")


def _calls_of_the_server_clock(tree: ast.AST) -> list[int]:
    """Lines that read the server's own date: date.today, datetime.today/now/utcnow, and
    CURRENT_DATE or func.current_date in SQL."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            pair = (node.value.id, node.attr)
            if pair in {
                ("date", "today"),
                ("datetime", "today"),
                ("datetime", "utcnow"),
                ("func", "current_date"),
                ("func", "now"),
            }:
                found.append(node.lineno)
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.search(r"\bCURRENT_(DATE|TIMESTAMP)\b|\bnow\(\)", node.value, re.I)
        ):
            found.append(node.lineno)
    return found


def test_no_module_reads_the_server_clocks_date():
    """Everything goes through app.dates.today() (and the one clock, models_base.utcnow)."""
    offenders = {}
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        lines = _calls_of_the_server_clock(tree)
        # datetime.now(UTC) is the clock itself, in models_base.utcnow only.
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "now"
                and isinstance(node.value, ast.Name)
                and node.value.id == "datetime"
                and path.name != "models_base.py"
            ):
                lines.append(node.lineno)
        if lines:
            offenders[str(path.relative_to(APP.parent))] = lines
    assert offenders == {}


def test_the_scan_finds_a_direct_call():
    assert _calls_of_the_server_clock(ast.parse("x = date.today()\ny = datetime.utcnow()")) == [
        1,
        2,
    ]


def test_today_is_moscows_date_after_21_utc(app, moscow, clock):
    with app.app_context():
        assert dates.today() == date(2026, 3, 10)
        clock.now = datetime(2026, 3, 9, 20, 59, 59, tzinfo=UTC)
        assert dates.today() == date(2026, 3, 9)


def test_today_in_a_zone_behind_utc(app, monkeypatch, clock):
    """Around midnight the other way: 02:00 UTC on 10 March is still the 9th in New York."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "America/New_York")
    clock.now = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    with app.app_context():
        assert dates.today() == date(2026, 3, 9)


def test_an_unknown_zone_stops_the_start():
    with pytest.raises(ValueError, match="HUQUQ_TIMEZONE"):
        dates.check_timezone("Moscow/Kremlin")


@pytest.fixture
def volunteer(app, make, client, clock):
    user = make.user("volunteer")
    login(client, user)
    return user


def _case_due(app, make, volunteer, due_on: date) -> Case:
    case = make.case(by=volunteer, opened_on=date(2026, 3, 1))
    with app.app_context():
        add_deadline(db.session.get(Case, case.id), due_on, "Подать жалобу", by=None)
        db.session.commit()
    return case


def test_a_deadline_due_tomorrow_by_utc_is_due_today_in_moscow(
    app, moscow, client, volunteer, make, clock
):
    case = _case_due(app, make, volunteer, date(2026, 3, 10))
    page = client.get(f"/cases/{case.reference}").text
    assert "due today" in page
    deadlines = client.get("/deadlines").text
    assert case.reference in deadlines and "overdue by" not in deadlines
    # Half an hour before Moscow's midnight it is a day away.
    clock.now = datetime(2026, 3, 9, 20, 30, tzinfo=UTC)
    assert "1 day left" in client.get(f"/cases/{case.reference}").text
    # And the next evening, after Moscow's midnight, it is overdue by a day.
    clock.now = datetime(2026, 3, 10, 21, 1, tzinfo=UTC)
    login(client, volunteer)  # a day idle ends a session
    assert "overdue by 1 day" in client.get(f"/cases/{case.reference}").text


def test_forms_default_to_moscows_date_and_take_it_as_not_future(
    app, moscow, client, volunteer, make
):
    form = client.get("/cases/new").text
    assert re.search(r'name="case-opened_on"[^>]*value="2026-03-10"', form)
    data = {
        "client-full_name": "Усмонов Бахтиёр",
        "client-citizenship": "UZ",
        "case-case_type": "other",
        "case-opened_on": "2026-03-10",  # tomorrow by the server's clock, today in Moscow
        "case-region": "Москва",
    }
    refused = submit(client, "/cases/new", {**data, "case-opened_on": "2026-03-11"})
    assert refused.status_code == 422 and "This date is in the future." in refused.text
    opened = submit(client, "/cases/new", data)
    assert opened.status_code == 302
    case_page = client.get(opened.headers["Location"]).text
    assert re.search(r'name="occurred_on"[^>]*value="2026-03-10"', case_page)


def test_the_dashboard_presets_follow_moscows_date(app, moscow, client, make, clock):
    coordinator = make.user("coordinator")
    clock.now = datetime(2026, 3, 31, 21, 30, tzinfo=UTC)  # 1 April in Moscow: a new quarter
    login(client, coordinator)
    page = client.get("/dashboard").text
    assert "from=2026-04-01&amp;to=2026-04-01" in page  # this month and this quarter
    assert "from=2026-01-01&amp;to=2026-04-01" in page  # this year


def test_an_import_takes_moscows_today_and_refuses_tomorrow(app, moscow, clock, tmp_path):
    header = (
        "reference,case_type,opened_on,region,client_name,citizenship,assigned_to,"
        "outcome,closed_on,next_deadline,summary"
    )
    path = tmp_path / "cases.csv"
    for opened_on, ok in (("2026-03-10", True), ("2026-03-11", False)):
        row = f",other,{opened_on},Москва,Усмонов Бахтиёр,UZ,,,,,"
        path.write_bytes(f"{header}\r\n{row}\r\n".encode("utf-8-sig"))
        result = app.test_cli_runner().invoke(args=["cases", "import", str(path), "--dry-run"])
        assert (result.exit_code == 0) is ok, result.output
        if not ok:
            assert "future" in result.output
