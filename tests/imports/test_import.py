"""Importing cases: what files really look like, a dry run first, and a round trip that changes
nothing."""

import csv
import html
import io
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.audit.models import AuditEvent
from app.cases.models import Case, TimelineEntry
from app.clients.models import Client
from app.deadlines.models import Deadline
from app.exports.services import export_cases
from app.extensions import db
from app.imports.services import plan_import, run_import
from tests.helpers import csrf_field, login, row_counts

HEADER = "reference,case_type,opened_on,region,client_name,citizenship,assigned_to,outcome,closed_on,next_deadline,summary"
ROWS = [
    ',deportation_challenge,2025-03-03,Москва,Худойбердиев Шерзод,UZ,,,,2025-03-13,"Протокол, ст. 18.8; выдворение"',
    "OLD-2023-15,school_refusal,2024-09-02,Казань,Рахмонова Нигина,TJ,coordinator@example.org,failure,2024-11-20,,Отказ в приёме",
    ',registry_error,2025-01-10,Москва,худойбердиев  шерзод,uz,,success,2025-02-01,,"Многострочное\nописание с ""кавычками"""',
]


def _file(rows=ROWS, header=HEADER, separator=",", encoding="utf-8-sig") -> bytes:
    """The rows re-written with ``separator`` (quoting as a spreadsheet does), and three empty
    rows at the end as spreadsheets leave them."""
    records = list(csv.reader(io.StringIO("\r\n".join([header, *rows]), newline="")))
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=separator, lineterminator="\r\n").writerows(records)
    return (out.getvalue() + "\r\n\r\n\r\n").encode(encoding)


def _export(identified: bool) -> bytes:
    return b"".join(export_cases({}, None, identified, by=None))


def _snapshot():
    """Every row of the data tables, to show that an import changed nothing at all."""
    return {
        model.__tablename__: db.session.execute(sa.select(model.__table__)).all()
        for model in (Case, Client, TimelineEntry, Deadline)
    }


@pytest.fixture
def coordinator(make):
    return make.user("coordinator", email="coordinator@example.org")


def test_import_creates_cases_clients_outcomes_and_deadlines(ctx, coordinator):
    plan = plan_import(_file())
    assert plan.ok, plan.errors
    assert [r.action for r in plan.rows] == ["create", "create", "create"]
    assert plan.new_clients == 2  # the third row names the first client again
    totals = run_import(plan, by=coordinator)
    db.session.commit()
    assert totals == {"created": 3, "updated": 0, "unchanged": 0, "new_clients": 2}
    old = db.session.execute(sa.select(Case).where(Case.reference == "OLD-2023-15")).scalar_one()
    assert (old.outcome, old.closed_on, old.assigned_to_id) == (
        "failure",
        date(2024, 11, 20),
        coordinator.id,
    )
    assert old.entries[-1].kind == "closed"
    first, third = db.session.execute(
        sa.select(Case).where(Case.reference != "OLD-2023-15").order_by(Case.opened_on.desc())
    ).scalars()
    assert first.client_id == third.client_id
    assert first.summary == "Протокол, ст. 18.8; выдворение" and [
        d.due_on for d in first.deadlines
    ] == [date(2025, 3, 13)]
    assert third.summary == 'Многострочное\nописание с "кавычками"'
    events = (
        db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "import"))
        .scalars()
        .all()
    )
    assert len(events) == 1 and events[0].changes["created"] == [None, 3]


def test_windows_1251_with_semicolons_imports_the_same_as_utf8_with_commas(ctx, coordinator):
    utf8 = plan_import(_file())
    cp1251 = plan_import(_file(separator=";", encoding="cp1251"))
    assert cp1251.ok and utf8.ok
    assert [(r.values, r.client_name, r.citizenship) for r in cp1251.rows] == [
        (r.values, r.client_name, r.citizenship) for r in utf8.rows
    ]


def test_columns_in_another_order_and_upper_case_codes(ctx, coordinator):
    header = "summary,reference,case_type,opened_on,region,client_name,citizenship,assigned_to,outcome,closed_on,next_deadline"
    plan = plan_import(
        _file(rows=[",,other,2025-01-01,Тюмень,Каримов Акмал,kg,,,,"], header=header)
    )
    assert plan.ok and plan.rows[0].citizenship == "KG"


def test_a_dry_run_writes_nothing(app, coordinator, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes(_file())
    before = row_counts(app)
    result = app.test_cli_runner().invoke(args=["cases", "import", str(path), "--dry-run"])
    assert result.exit_code == 0
    assert "3 cases to create, 0 to update, 0 unchanged, 2 new clients" in result.output
    assert row_counts(app) == before
    result = app.test_cli_runner().invoke(args=["cases", "import", str(path)])
    assert result.exit_code == 0 and "3 created" in result.output


@pytest.mark.parametrize("identified", [False, True])
def test_an_exported_file_imports_back_with_no_change(ctx, make, coordinator, identified):
    for i in range(4):
        case = make.case(
            by=coordinator,
            summary=f"=СУММ(A{i})\n+7 916",
            region="Москва",
            assigned_to_id=coordinator.id if i % 2 else None,
            outcome="success" if i == 3 else None,
            closed_on=date(2025, 4, 1) if i == 3 else None,
        )
        if i == 1:
            from app.cases.services import add_deadline

            add_deadline(db.session.get(Case, case.id), date(2026, 1, 15), "Суд", by=None)
    db.session.commit()
    before = _snapshot()
    plan = plan_import(_export(identified))
    assert plan.ok, plan.errors
    assert {r.action for r in plan.rows} == {"unchanged"}
    run_import(plan, by=coordinator)
    db.session.commit()
    assert _snapshot() == before


def test_an_update_changes_only_what_differs(ctx, make, coordinator):
    case = make.case(by=coordinator, region="Москва", opened_on=date(2025, 1, 10))
    [row] = csv.DictReader(io.StringIO(_export(False).decode("utf-8-sig"), newline=""))
    row |= {"region": "Самара", "outcome": "success", "closed_on": "2025-02-02"}
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    plan = plan_import(out.getvalue().encode("utf-8"))
    assert plan.ok, plan.errors
    [row] = plan.rows
    assert row.action == "update" and set(row.changes) == {"region", "outcome", "closed_on"}
    run_import(plan, by=coordinator)
    db.session.commit()
    case = db.session.get(Case, case.id)
    assert (case.region, case.outcome, case.closed_on) == ("Самара", "success", date(2025, 2, 2))
    kinds = [e.kind for e in case.entries]
    assert kinds == ["closed"]


text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\r\n"),
    max_size=60,
)
tricky = st.one_of(
    text, st.sampled_from(["=1+1", "+79161234567", "-", "@x", "\tTab", '"', ",", "'=x", "''"])
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(summary=tricky, region=tricky, name=tricky)
def test_round_trip_of_arbitrary_text(ctx, make, coordinator, summary, region, name):
    """Whatever a person typed, an identified export imports back unchanged (names, places and
    codes are trimmed on import, so those are generated trimmed; a name needs a letter, so
    one with none gets a surname after what was generated)."""
    region, name = region.strip() or "Москва", name.strip()
    name = name if any(c.isalpha() for c in name) else f"{name} Каримов".strip()
    # Examples add up (the whole test is rolled back at the end): each export holds them all.
    person = make.client(full_name=name[:200])
    make.case(client=person, summary=summary or None, region=region[:200])
    before = _snapshot()
    plan = plan_import(_export(True))
    assert plan.ok, plan.errors
    assert {r.action for r in plan.rows} == {"unchanged"}, [r.changes for r in plan.rows]
    run_import(plan, by=None)
    assert _snapshot() == before


def test_web_import_dry_run_then_apply_with_progress(client, app, coordinator):
    login(client, coordinator)
    before = row_counts(app)
    rows = [f",other,2025-01-{1 + i % 28:02d},Москва,Заявитель {i},UZ,,,,," for i in range(450)]
    response = client.post(
        "/imports/",
        content_type="multipart/form-data",
        data={
            **csrf_field(client.get("/imports/").text),
            "file": (io.BytesIO(_file(rows=rows)), "big.csv"),
        },
    )
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert "Dry run: nothing has been saved yet." in page and "Import 450 rows" in page
    assert row_counts(app) == before
    applied = client.post("/imports/apply", data=csrf_field(response.text))
    body = applied.get_data(as_text=True)
    assert "200 of 450 rows" in body and "400 of 450 rows" in body
    assert "Done. New cases: 450; updated: 0; unchanged: 0; new clients: 450." in body
    assert row_counts(app)["cases"] == before["cases"] + 450
    again = client.post("/imports/apply", data=csrf_field(client.get("/imports/").text))
    assert again.status_code == 302  # the file was used once and is gone
    assert row_counts(app)["cases"] == before["cases"] + 450


def test_an_upload_over_the_limit_is_refused_clearly(client, app, coordinator):
    login(client, coordinator)
    token = csrf_field(client.get("/imports/").text)
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    try:
        response = client.post(
            "/imports/",
            content_type="multipart/form-data",
            data={**token, "file": (io.BytesIO(b"x" * 20_000), "big.csv")},
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    assert response.status_code == 413 and "Split the file" in response.text


def test_a_spreadsheet_that_is_not_csv_is_named(client, coordinator):
    login(client, coordinator)
    response = client.post(
        "/imports/",
        content_type="multipart/form-data",
        data={
            **csrf_field(client.get("/imports/").text),
            "file": (io.BytesIO(b"PK\x03\x04"), "cases.xlsx"),
        },
    )
    assert response.status_code == 422 and "Choose a .csv file" in html.unescape(response.text)
