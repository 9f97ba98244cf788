"""The cases CSV: SPEC's columns, pseudonymised by default, streamed, and every export audited."""

import csv
import io
import os
import sqlite3
import stat
import sys
import threading
import tracemalloc
import unicodedata
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.audit.models import AuditEvent
from app.cases.models import Case
from app.crypto import Keys, Opener, new_data_key, seal, wrap
from app.csvfiles import (
    FORMULA_SIGNS,
    WHITE_SPACE,
    batched,
    cell,
    guard,
    need_nothing,
    rows_text,
    text_lines,
    unguard,
)
from app.dates import today
from app.deadlines.models import Deadline
from app.exports.engine import parts, stream_cases_csv
from app.exports.engine.fast import CaseLines, fetched_ahead
from app.exports.queries import case_export_query
from app.exports.services import export_cases
from app.extensions import db
from tests.databases import app_on_fresh_database
from tests.helpers import login, submit

HEADER = "reference,case_type,opened_on,region,client_name,citizenship,assigned_to,outcome,closed_on,next_deadline,summary"


def _rows(body: bytes) -> list[dict]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


@pytest.fixture
def coordinator(make, client):
    user = make.user("coordinator")
    login(client, user)
    return user


def test_cases_csv_has_spec_columns_and_pseudonyms(client, coordinator, make, app):
    volunteer = make.user("volunteer", email="vol@example.org")
    person = make.client(full_name="Шералиев Бахром", citizenship="TJ")
    case = make.case(
        client=person,
        by=coordinator,
        assigned_to_id=volunteer.id,
        region="Казань",
        summary='=HYPERLINK("http://evil")',
        outcome="partial",
        closed_on=date(2025, 4, 2),
        opened_on=date(2025, 3, 1),
    )
    with app.app_context():
        from app.cases.services import add_deadline

        add_deadline(db.session.get(Case, case.id), date(2025, 5, 1), "Жалоба", by=None)
        add_deadline(db.session.get(Case, case.id), date(2025, 4, 20), "Раньше", by=None)
        db.session.commit()
    response = client.get("/exports/cases.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="huquq-cases-{today().isoformat()}.csv"'
        in response.headers["Content-Disposition"]
    )
    assert response.data.decode("utf-8").splitlines()[0] == "\ufeff" + HEADER
    [row] = _rows(response.data)
    assert row == {
        "reference": case.reference,
        "case_type": "deportation_challenge",
        "opened_on": "2025-03-01",
        "region": "Казань",
        "client_name": person.pseudonym,
        "citizenship": "TJ",
        "assigned_to": "vol@example.org",
        "outcome": "partial",
        "closed_on": "2025-04-02",
        "next_deadline": "2025-04-20",
        "summary": '\'=HYPERLINK("http://evil")',
    }
    assert "Шералиев" not in response.data.decode("utf-8")


@pytest.mark.parametrize("text", ["=1+1", "+7 916", "-5", "@SUM(A1)", "\tTab", "\rCR"])
def test_formula_characters_are_guarded(client, coordinator, make, text):
    make.case(by=coordinator, summary=text)
    [row] = _rows(client.get("/exports/cases.csv").data)
    assert row["summary"] == "'" + text


# Spreadsheets read a full-width or small sign as the sign, and skip white space before one.
DISGUISED = [
    "＝1+1",
    "＋7 916 123-45-67",
    "－5",
    "＠SUM(A1)",
    "﹦1+1",
    "⁺1",
    " =1+1",
    "\u3000=1+1",
    "\u00a0@SUM(A1)",
    "\n-5",
    "  \t+1",
    "' =x",
    "'＝x",
]


@pytest.mark.parametrize("text", DISGUISED)
def test_disguised_formulas_are_guarded_and_import_back_unchanged(
    client, coordinator, make, app, text
):
    """Through a real export and a real import: the cell gets its one ', and the file imports
    back with nothing changed (regions are trimmed on import, so one is made trimmed)."""
    from app.imports.services import plan_import, run_import

    make.case(by=coordinator, summary=text, region=text.strip())
    body = client.get("/exports/cases.csv").data
    [row] = _rows(body)
    assert (row["summary"], row["region"]) == ("'" + text, "'" + text.strip())
    with app.app_context():
        before = db.session.execute(sa.select(Case.__table__)).all()
        plan = plan_import(body)
        assert plan.ok, plan.errors
        assert [r.action for r in plan.rows] == ["unchanged"]
        run_import(plan, by=None)
        db.session.commit()
        assert db.session.execute(sa.select(Case.__table__)).all() == before


@pytest.mark.parametrize("text", ["Москва, ЦАО", '"Южный" округ', "=1+1", "-юг", "'=x", "＝1"])
def test_regions_and_emails_are_written_as_any_other_cell(client, coordinator, make, text):
    """Each is written once and remembered by the export: the second case gets the same."""
    for _ in range(2):
        make.case(by=coordinator, region=text, assigned_to_id=coordinator.id)
    rows = _rows(client.get("/exports/cases.csv").data)
    assert [row["region"] for row in rows] == [guard(text)] * 2
    assert [row["assigned_to"] for row in rows] == [coordinator.email] * 2


def test_a_code_changed_behind_the_apps_back_is_still_guarded(client, coordinator, make, app):
    """Codes are written as they are only where the export has checked they need nothing."""
    changed = make.case(by=coordinator)
    make.case(by=coordinator)
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE clients SET citizenship = '=1' WHERE id = :id"),
            {"id": changed.client_id},
        )
        db.session.commit()
    rows = _rows(client.get("/exports/cases.csv").data)
    assert [row["citizenship"] for row in rows] == ["'=1", "TJ"]


def test_export_uses_the_case_list_filters(client, coordinator, make):
    kept = make.case(by=coordinator, region="Москва", case_type="school_refusal")
    make.case(by=coordinator, region="Казань", case_type="school_refusal")
    make.case(by=coordinator, region="Москва", case_type="police_abuse")
    rows = _rows(client.get("/exports/cases.csv?region=Москва&case_type=school_refusal").data)
    assert [r["reference"] for r in rows] == [kept.reference]


def test_export_by_period_and_status_keeps_the_days_at_both_ends(client, coordinator, make):
    dates = [date(2024, 12, 31), date(2025, 1, 1), date(2025, 3, 31), date(2025, 4, 1)]
    made = [make.case(by=coordinator, opened_on=day) for day in dates]
    make.case(
        by=coordinator,
        opened_on=date(2025, 2, 1),
        outcome="success",
        closed_on=date(2025, 2, 20),
    )
    query = "opened_from=2025-01-01&opened_to=2025-03-31&status=open"
    rows = _rows(client.get(f"/exports/cases.csv?{query}").data)
    assert [r["reference"] for r in rows] == [made[1].reference, made[2].reference]


def _export_events(app) -> list[AuditEvent]:
    with app.app_context():
        export = AuditEvent.action.in_(["export_started", "export_finished"])
        query = sa.select(AuditEvent).where(export).order_by(AuditEvent.id)
        return list(db.session.execute(query).scalars())


def test_every_export_is_audited_with_who_filters_and_rows(client, coordinator, make, app):
    for _ in range(3):
        make.case(by=coordinator, region="Москва")
    client.get("/exports/cases.csv?region=Москва").get_data()
    started, finished = _export_events(app)
    assert (started.action, finished.action) == ("export_started", "export_finished")
    assert started.actor_id == finished.actor_id == coordinator.id
    assert started.changes == {"filters": [None, {"region": "Москва"}], "identified": [None, False]}
    assert finished.changes == {
        "export": [None, started.id],
        "rows": [None, 3],
        "result": [None, "complete"],
    }


def test_the_start_is_on_record_before_the_first_byte(client, coordinator, make, app):
    make.case(by=coordinator)
    response = client.get("/exports/cases.csv")
    assert [e.action for e in _export_events(app)] == ["export_started"]
    response.get_data()
    assert [e.action for e in _export_events(app)] == ["export_started", "export_finished"]


def test_an_export_reads_well_in_the_audit_trail(client, make, app):
    admin = make.user("admin")
    make.case(by=admin, region="Казань")
    login(client, admin)
    client.get("/exports/cases.csv?region=Казань").get_data()
    started, _finished = _export_events(app)
    page = client.get("/admin/audit").text
    assert page.count(f"export: no. {started.id}") == 2
    assert "cases export started" in page and "filters: region = Казань" in page
    assert "client names: no" in page
    assert "cases export finished" in page and "rows: 1" in page and "result: complete" in page
    page = client.get("/admin/audit", headers={"Accept-Language": "ru"}).text
    assert "выгрузка дел начата" in page and "выгрузка дел закончена" in page
    assert f"выгрузка: № {started.id}" in page and "итог: полностью" in page


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("region=Нигде", "Region"),
        ("opened_from=2025-02-30", "Opened from"),
        ("opened_to=yesterday", "Opened to"),
        ("case_type=witchcraft", "Case type"),
        ("assigned=999999", "Assigned to"),
        ("status=lost&outcome=won", "Status, Outcome"),
    ],
)
def test_a_filter_that_cannot_be_used_exports_nothing(client, coordinator, make, app, query, named):
    """Before, a bad filter was dropped and every case exported."""
    make.case(by=coordinator, region="Москва")
    response = client.get(f"/exports/cases.csv?{query}")
    assert response.status_code == 400 and response.content_type.startswith("text/html")
    assert f"Nothing was exported: these filters are not valid: {named}." in response.text
    assert _export_events(app) == []


@pytest.mark.parametrize("part", [False, True])
def test_a_pseudonymised_export_does_not_read_the_sealed_names(ctx, part):
    """Names are read from the database only for an identified export: a pseudonymised one
    never holds them, sealed or not, in any process."""

    def sql(identified: bool) -> str:
        query = case_export_query({}, None, identified, part)
        return str(query.compile(dialect=db.session.get_bind().dialect))

    assert "clients.full_name" not in sql(False)
    assert "clients.full_name" in sql(True)


def test_identified_export_needs_an_admin_and_their_password(client, make, app):
    admin = make.user("admin")
    person = make.client(full_name="Шералиев Бахром")
    make.case(client=person, by=admin)
    login(client, admin)
    wrong = submit(client, "/exports/cases-identified", {"password": "not my password"})
    assert wrong.status_code == 422 and "not your password" in wrong.text
    response = submit(client, "/exports/cases-identified", {"password": "a sturdy test passphrase"})
    assert response.status_code == 200 and "identified" in response.headers["Content-Disposition"]
    [row] = _rows(response.data)
    assert row["client_name"] == "Шералиев Бахром"
    started, finished = _export_events(app)
    assert started.changes["identified"][1] is True and started.actor_id == admin.id
    assert finished.changes["result"][1] == "complete"


@pytest.mark.parametrize("role", ["volunteer", "coordinator"])
def test_only_admins_may_export_names(client, make, role):
    login(client, make.user(role))
    assert client.get("/exports/cases-identified").status_code == 403


def test_volunteers_cannot_export_or_import(client, make):
    login(client, make.user("volunteer"))
    assert client.get("/exports/cases.csv").status_code == 403
    assert client.get("/imports/").status_code == 403


def test_command_line_export_file_is_its_owners_alone(app, make, tmp_path):
    """Client data: 0600 whatever the umask, an older readable file replaced, a symlink planted
    at the target replaced rather than written through."""
    make.case(client=make.client(full_name="Абдуллаев Акмал"))
    elsewhere = tmp_path / "someone-elses"
    elsewhere.write_text("untouched")
    older = tmp_path / "older.csv"
    older.write_text("old")
    older.chmod(0o644)
    planted = tmp_path / "planted.csv"
    planted.symlink_to(elsewhere)
    (tmp_path / ".new.csv.partial").symlink_to(elsewhere)  # the partial file's old fixed name
    mask = os.umask(0o022)
    try:
        for target in (tmp_path / "new.csv", older, planted):
            for identified in ((), ("--identified",)):
                args = ["cases", "export", *identified, "-o", str(target)]
                result = app.test_cli_runner().invoke(args=args)
                assert result.exit_code == 0, result.output
                assert not target.is_symlink()
                assert stat.S_IMODE(target.stat().st_mode) == 0o600, target
                assert _rows(target.read_bytes())
    finally:
        os.umask(mask)
    assert elsewhere.read_text() == "untouched"


def test_command_line_export_to_a_file(app, make, tmp_path):
    person = make.client(full_name="Абдуллаев Акмал")
    make.case(client=person)
    target = tmp_path / "cases.csv"
    result = app.test_cli_runner().invoke(args=["cases", "export", "-o", str(target)])
    assert result.exit_code == 0
    assert _rows(target.read_bytes())[0]["client_name"] == person.pseudonym
    named = app.test_cli_runner().invoke(args=["cases", "export", "--identified"])
    assert "Абдуллаев Акмал" in named.output
    events = _export_events(app)
    assert [(e.via, e.action) for e in events] == [
        ("cli", "export_started"),
        ("cli", "export_finished"),
    ] * 2
    assert [e.changes["identified"][1] for e in events[::2]] == [False, True]


def _bulk_cases(app, n: int, start: int = 0) -> None:
    with app.app_context():
        from app.clients.services import create_client

        owner = create_client({"full_name": "Каримов Шерзод", "citizenship": "UZ"}, by=None)
        client_id, key = owner.id, owner.sealing_key()
        stamp = datetime(2025, 1, 1, tzinfo=UTC)
        rows = [
            {
                "reference": f"HQ-M{start + i:06d}",
                "client_id": client_id,
                "case_type": "other",
                "opened_on": date(2025, 1, 1),
                "region": "Москва",
                "summary": seal(key, "ж" * 200, f"cases.summary.HQ-M{start + i:06d}"),
                "created_at": stamp,
                "updated_at": stamp,
            }
            for i in range(n)
        ]
        db.session.execute(sa.insert(Case.__table__), rows)
        db.session.commit()


def _peak_while_exporting(app) -> tuple[int, int]:
    with app.app_context():
        tracemalloc.start()
        rows = sum(chunk.count(b"\r\n") for chunk in export_cases({}, None, False, by=None)) - 1
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return rows, peak


def test_export_memory_stays_flat_from_5000_to_50000_rows(app):
    _bulk_cases(app, 5_000)
    small_rows, small_peak = _peak_while_exporting(app)
    _bulk_cases(app, 45_000, start=5_000)
    big_rows, big_peak = _peak_while_exporting(app)
    assert (small_rows, big_rows) == (5_000, 50_000)
    # 10× the rows, and the peak is what a few batches take, not what the rows take (all
    # 50,000 of these rows held at once would be over 100 MB).
    assert big_peak < small_peak * 1.5 + 2_000_000, (small_peak, big_peak)
    assert big_peak < 20_000_000, big_peak


def test_deadline_met_is_not_the_next_deadline(client, coordinator, make, app):
    case = make.case(by=coordinator)
    with app.app_context():
        db.session.add(
            Deadline(
                case=db.session.get(Case, case.id),
                due_on=date(2025, 1, 1),
                title="x",
                status="met",
                resolved_on=date(2025, 1, 1),
            )
        )
        db.session.info["audit_actor"] = None
        db.session.commit()
    [row] = _rows(client.get("/exports/cases.csv").data)
    assert row["next_deadline"] == ""


def test_cases_come_in_the_order_they_were_entered(client, coordinator, make):
    """A case entered today about last year comes after the cases entered before it: a new
    case is always at the end of the next export."""
    first = make.case(by=coordinator, opened_on=date(2025, 5, 1))
    backdated = make.case(by=coordinator, opened_on=date(2024, 1, 15))
    rows = _rows(client.get("/exports/cases.csv").data)
    assert [r["reference"] for r in rows] == [first.reference, backdated.reference]
    assert [r["opened_on"] for r in rows] == ["2025-05-01", "2024-01-15"]


def test_in_a_transaction_with_writes_of_its_own_the_door_reads_them_itself(app, make, monkeypatch):
    """A test's transaction is never committed: helpers could not see its cases, so the door
    does not use them, and the file holds what this transaction sees — without the fixtures
    saying anything about helpers."""
    monkeypatch.setitem(app.config, "HUQUQ_EXPORT_PART_IDS", 1)  # every case a part
    for region, summary in [("Москва, ЦАО", "=1+1"), ("-юг", "две строки\r\nвторая")]:
        make.case(region=region, summary=summary)
    with app.app_context():
        assert parts.parts_wanted({}, None, 2) == (0, [])
        plain = b"".join(stream_cases_csv({}, None, False, path="plain")).decode()
        fast = b"".join(stream_cases_csv({}, None, False, helpers=2)).decode()
    assert len(_rows(plain.encode())) == 2 and fast == plain


def test_a_download_cut_off_midway_is_recorded_and_stops_reading(app):
    _bulk_cases(app, 5_000)  # several batches
    with app.app_context():
        chunks = export_cases({}, None, False, by=None)
        header, first = next(chunks), next(chunks)
        chunks.close()
    _started, finished = _export_events(app)
    sent = first.count(b"\r\n")
    assert header.decode().startswith("\ufeffreference,") and 0 < sent < 5_000
    assert finished.changes["result"][1] == "cut_off" and finished.changes["rows"][1] == sent
    assert not [t for t in threading.enumerate() if t.name == "export-reader"]


def test_reading_ahead_hands_over_every_batch_then_the_error():
    calls = iter([[1, 2], [3], RuntimeError("connection lost")])

    def fetch():
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    got = []
    with pytest.raises(RuntimeError, match="connection lost"):
        for batch in fetched_ahead(fetch):
            got.append(batch)
    assert got == [[1, 2], [3]]


def test_a_command_line_export_lets_others_save_while_it_reads(tmp_path):
    """On SQLite the export's long read must not hold the write lock: halfway through it,
    another connection can still write (before, it waited 15 s and failed)."""
    with app_on_fresh_database("sqlite", tmp_path, "reading") as app:
        _bulk_cases(app, 5_000)
        with app.app_context():
            chunks = export_cases({}, None, False, by=None)
            sent = next(chunks).count(b"\r\n") + next(chunks).count(b"\r\n")  # more to come
            other = sqlite3.connect(tmp_path / "reading.sqlite3", timeout=0.5)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("UPDATE cases SET region = 'Тверь' WHERE id = 1")
                other.commit()
            finally:
                other.close()
            assert sent + sum(chunk.count(b"\r\n") for chunk in chunks) == 5_001  # + header


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.text(max_size=30)), min_size=11, max_size=11)))
def test_the_file_reads_back_cell_for_cell_and_matches_the_csv_module(rows):
    """Any text — quotes, commas, line breaks, formula starts — comes back from a CSV reader
    as written (after the guard), and the bytes are those Python's csv module would write."""
    headers = HEADER.split(",")
    ours = "".join(text_lines(headers, batched(rows, 7)))
    guarded = [[guard(v) if v else "" for v in row] for row in rows]
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows([headers, *guarded])
    assert ours == "\ufeff" + expected.getvalue()
    assert list(csv.reader(io.StringIO(ours[1:], newline="")))[1:] == guarded


_code = st.one_of(st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,9}", fullmatch=True), st.text(max_size=6))
_cell = st.one_of(st.none(), st.text(max_size=20))
_day = st.one_of(st.none(), st.dates().map(date.isoformat))


@st.composite
def _sealed_rows(draw):
    """Rows as ``case_export_query`` gives them (codes mostly plain, some not; free text; a
    summary and a name sealed with the client's own key, or a key erased), and the cells each
    should become, pseudonymised and identified."""
    ring = Keys.generate()
    rows, cells = [], []
    for n in range(draw(st.integers(0, 12))):
        reference, pseudonym = f"{draw(_code)}{n}", f"{draw(_code)}{n}"
        key = new_data_key() if draw(st.booleans()) or n == 0 else None  # None: erased
        summary, name = draw(_cell), draw(_cell)
        row = [reference, draw(_code), draw(st.dates()).isoformat(), draw(st.text(max_size=12))]
        row += [pseudonym, draw(_code), draw(_cell)]
        row += [draw(st.sampled_from([None, "success", "failure"])), draw(_day), draw(_day)]
        rows.append(
            (
                *row,
                key and seal(key, summary, f"cases.summary.{reference}"),
                key and wrap(key, f"clients.data_key.{pseudonym}", ring),
                key and seal(key, name, f"clients.full_name.{pseudonym}"),
            )
        )
        opened = (name, summary) if key else (None, None)
        cells.append(
            {
                identified: (*row[:4], opened[0] if identified else pseudonym, *row[5:], opened[1])
                for identified in (False, True)
            }
        )
    return ring, rows, cells


@settings(max_examples=200, deadline=None)
@given(_sealed_rows(), st.booleans())
def test_the_cases_writer_writes_what_the_general_writer_does(sealed, identified):
    """Its shortcuts (codes checked a batch at a time, regions and emails remembered, cells
    checked inline) change nothing: the same text as the general writer gives for the opened
    cells."""
    ring, rows, cells = sealed
    write = CaseLines(Opener(ring), identified)
    ours = "".join(write(batch) for batch in batched(rows, 3))
    assert ours == rows_text([row[identified] for row in cells])


def test_the_guards_character_sets_are_what_their_comments_say():
    every = (chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    signs, spaces = set(), set()
    for c in every:
        if unicodedata.normalize("NFKC", c) in ("=", "+", "-", "@"):
            signs.add(c)
        if c.isspace():
            spaces.add(c)
    assert (signs, spaces) == (FORMULA_SIGNS, WHITE_SPACE)


@settings(max_examples=500)
@given(st.text(st.sampled_from("'= ＝\t\rx\u3000﹢@-\n"), max_size=6) | st.text(max_size=8))
@example(" =1")
@example("'＝1")
def test_unguard_takes_off_exactly_the_quote_guard_put(text):
    assert unguard(guard(text)) == text
    assert guard(text) == text or guard(text) == "'" + text


@given(st.lists(st.text(max_size=8)))
@example(["\0\t"])  # a NUL before a formula character: not plain, though written as it is
@example(["'x"])
@example(["\u3000=x"])
@example(["＠x"])
def test_cells_that_need_nothing_are_those_the_writer_leaves_alone(cells):
    """Needing nothing means every cell is written as it is; the other way round it is cautious only
    about a cell that holds a NUL (the mark it puts where a cell starts)."""
    left_alone = all(cell(c) == c and not c.startswith("'") for c in cells)
    if need_nothing(cells):
        assert left_alone
    elif not any("\0" in c for c in cells):
        assert not left_alone
