"""A file checked for import is kept sealed until it is applied, and erased on every way out:
applied, replaced, cancelled, logged out, or left an hour. Names with no letters, and dates
outside the app's range, are refused as the forms refuse them."""

import html
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.auth.models import UserSession
from app.extensions import db
from tests.helpers import csrf_field, login, row_counts

HEADER = "reference,case_type,opened_on,region,client_name,citizenship,assigned_to,outcome,closed_on,next_deadline,summary"
NAME = "Тешабоева Муниса Алишеровна"
PASSPORT = "FA7351942"
RU = {"Accept-Language": "ru"}


def _csv(*rows: str) -> bytes:
    return "\r\n".join([HEADER, *rows]).encode("utf-8-sig")


GOOD = _csv(f',other,2025-02-03,Москва,{NAME},UZ,,,,,"Паспорт {PASSPORT}, патент просрочен"')


@pytest.fixture
def coordinator(make):
    return make.user("coordinator")


def _upload(browser, data: bytes = GOOD, headers=None):
    page = browser.get("/imports/", headers=headers)
    return browser.post(
        "/imports/",
        content_type="multipart/form-data",
        headers=headers,
        data={**csrf_field(page.text), "file": (io.BytesIO(data), "cases.csv")},
    )


def _kept_files(app) -> set[Path]:
    folder = Path(app.instance_path) / "imports"
    return set(folder.iterdir()) if folder.exists() else set()


def _files_holding(app, *texts: str) -> list[Path]:
    """Every file under instance/ whose bytes hold one of ``texts`` in UTF-8 or UTF-16."""
    needles = [
        text.encode(encoding) for text in texts for encoding in ("utf-8", "utf-16-le", "utf-16-be")
    ]
    return [
        path
        for path in Path(app.instance_path).rglob("*")
        if path.is_file() and any(needle in path.read_bytes() for needle in needles)
    ]


def _checked(app, browser) -> Path:
    """Upload GOOD as ``browser``; the one file its dry run kept."""
    before = _kept_files(app)
    response = _upload(browser)
    assert response.status_code == 200 and "Dry run: nothing has been saved yet." in response.text
    [kept] = _kept_files(app) - before
    return kept


def _apply(browser):
    return browser.post("/imports/apply", data=csrf_field(browser.get("/imports/").text))


def test_a_checked_file_is_sealed_on_disk_and_applies(client, app, coordinator):
    login(client, coordinator)
    before = row_counts(app)
    kept = _checked(app, client)
    assert _files_holding(app, NAME, PASSPORT, "Муниса") == []
    assert kept.stat().st_mode & 0o777 == 0o600
    body = _apply(client).get_data(as_text=True)
    assert "Done. New cases: 1; updated: 0; unchanged: 0; new clients: 1." in body
    assert row_counts(app)["cases"] == before["cases"] + 1
    assert not kept.exists()
    assert _apply(client).status_code == 302  # used once
    assert row_counts(app)["cases"] == before["cases"] + 1


def test_a_failed_import_erases_the_file_too(client, app, coordinator, monkeypatch):
    login(client, coordinator)
    before = row_counts(app)
    kept = _checked(app, client)

    def failing(plan, user):
        yield 0
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("app.imports.routes.apply_import", failing)
    body = _apply(client).get_data(as_text=True)
    assert "The import failed; nothing was imported." in body
    assert not kept.exists() and row_counts(app) == before


def test_a_new_upload_replaces_and_erases_the_one_before(client, app, coordinator):
    login(client, coordinator)
    first = _checked(app, client)
    second = _checked(app, client)
    assert not first.exists() and second.exists()
    # Even a file that fails its check takes the place of the one checked before.
    assert _upload(client, _csv(",other,2025-02-03,Москва,---,UZ,,,,,")).status_code == 422
    assert not second.exists()
    assert _apply(client).status_code == 302


def test_cancel_erases_the_file_and_imports_nothing(client, app, coordinator):
    login(client, coordinator)
    before, files = row_counts(app), _kept_files(app)
    page = _upload(client)  # the dry-run page, with its Cancel button
    assert "Cancel and erase the file" in page.text and "/imports/cancel" in page.text
    [kept] = _kept_files(app) - files
    cancelled = client.post("/imports/cancel", data=csrf_field(page.text), follow_redirects=True)
    assert "Import cancelled; the uploaded file was erased." in html.unescape(cancelled.text)
    assert not kept.exists() and _apply(client).status_code == 302
    assert row_counts(app) == before


def test_cancel_without_the_csrf_token_keeps_the_file(client, app, coordinator):
    login(client, coordinator)
    kept = _checked(app, client)
    assert client.post("/imports/cancel").status_code in (302, 400)
    assert kept.exists()


def test_logging_out_erases_the_file(client, app, coordinator):
    login(client, coordinator)
    kept = _checked(app, client)
    client.post("/logout", data=csrf_field(client.get("/cases").text))
    assert not kept.exists()


def test_the_retention_run_erases_files_an_hour_old(client, app, coordinator, clock):
    login(client, coordinator)
    kept = _checked(app, client)
    for _ in range(2):  # the session stays busy: a request every 20 minutes
        clock.advance(minutes=20)
        client.get("/cases")
        result = app.test_cli_runner().invoke(args=["retention", "run"])
        assert result.exit_code == 0 and kept.exists()
    clock.advance(minutes=21)
    client.get("/cases")
    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert "import files not applied" in result.output and not kept.exists()


def test_an_hour_later_the_file_is_not_applied_even_before_the_housekeeping(
    client, app, coordinator, clock
):
    login(client, coordinator)
    before = row_counts(app)
    kept = _checked(app, client)
    for _ in range(4):  # the session stays busy: a request every 16 minutes
        clock.advance(minutes=16)
        client.get("/cases")
    refused = client.post(
        "/imports/apply", data=csrf_field(client.get("/imports/").text), follow_redirects=True
    )
    assert "No checked file is waiting" in html.unescape(refused.text)
    assert not kept.exists() and row_counts(app) == before


def test_the_housekeeping_erases_the_file_of_a_session_gone_idle(
    client, app, coordinator, clock, monkeypatch
):
    login(client, coordinator)
    kept = _checked(app, client)
    other = app.test_client()
    clock.advance(minutes=31)  # the uploader's session is idle past 30 minutes
    monkeypatch.setitem(app.config, "HOUSEKEEPING_EVERY", 300)
    monkeypatch.delitem(app.extensions, "huquq.housekeeping", raising=False)
    other.get("/healthz").close()  # housekeeping runs once the response is sent
    assert not kept.exists()


def test_a_file_kept_in_clear_by_an_older_version_is_erased(app, coordinator):
    folder = Path(app.instance_path) / "imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    old = folder / ("ab" * 16)
    old.write_bytes(GOOD)
    assert _files_holding(app, PASSPORT) == [old]  # the search finds what is there in clear
    app.test_cli_runner().invoke(args=["retention", "run"])
    assert not old.exists()


def _session_row(app, user) -> UserSession:
    return db.session.execute(
        sa.select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).scalar_one()


def test_another_users_session_cannot_apply_it(client, app, coordinator, make):
    login(client, coordinator)
    kept = _checked(app, client)
    other_user = make.user("coordinator")
    other = app.test_client()
    login(other, other_user)
    before = row_counts(app)
    assert _apply(other).status_code == 302  # nothing kept in their session
    # Even the uploader's token and wrapped key, copied into their session, do not open it.
    with app.app_context():
        entry = json.loads(_session_row(app, coordinator).data)["import"]
        row = _session_row(app, other_user)
        row.data = json.dumps(json.loads(row.data) | {"import": entry})
        db.session.commit()
    refused = _apply(other)
    assert refused.status_code == 302 and row_counts(app) == before
    assert "could not be opened" in other.get("/imports/").text
    assert not kept.exists()  # refused and erased


@pytest.mark.parametrize("where", [0, 20, -1])
def test_a_tampered_file_is_refused_and_nothing_is_written(client, app, coordinator, where):
    login(client, coordinator)
    before = row_counts(app)
    kept = _checked(app, client)
    sealed = bytearray(kept.read_bytes())
    sealed[where] ^= 0x01
    kept.write_bytes(bytes(sealed))
    refused = client.post(
        "/imports/apply", data=csrf_field(client.get("/imports/").text), follow_redirects=True
    )
    page = html.unescape(refused.text)
    assert "The checked file could not be opened: it was changed or damaged on the server." in page
    assert "Nothing was imported; upload the file again." in page
    assert row_counts(app) == before and not kept.exists()


@pytest.mark.parametrize("name", ["---", "123", "...", "🙂🙂", "- 1 -", "'+7"])
def test_a_name_with_no_letters_is_refused(client, app, coordinator, name):
    login(client, coordinator)
    before = row_counts(app)
    rows = [f",other,2025-02-03,Москва,{name},UZ,,,,,", f",other,2025-02-04,Казань,{NAME},UZ,,,,,"]
    response = _upload(client, _csv(*rows))
    assert response.status_code == 422
    page = html.unescape(response.text)
    assert "Row 2: client_name has no letters: write the client's name." in page
    assert "Row 3" not in page
    russian = html.unescape(_upload(client, _csv(*rows), headers=RU).text)
    assert "Строка 2: в client_name нет ни одной буквы: напишите имя клиента." in russian
    assert row_counts(app) == before and _apply(client).status_code == 302


@pytest.mark.parametrize(
    ("column", "value", "english", "russian"),
    [
        ("opened_on", "0001-01-01", "too far in the past", "слишком давняя"),
        ("opened_on", "1989-12-31", "too far in the past", "слишком давняя"),
        ("closed_on", "1989-12-31", "too far in the past", "слишком давняя"),
        ("next_deadline", "1989-12-31", "too far in the past", "слишком давняя"),
        ("next_deadline", "2101-01-01", "too far in the future", "слишком далеко в будущем"),
        ("next_deadline", "9999-12-31", "too far in the future", "слишком далеко в будущем"),
    ],
)
def test_dates_outside_the_apps_range_are_refused_as_the_forms_refuse_them(
    client, app, coordinator, column, value, english, russian
):
    login(client, coordinator)
    before = row_counts(app)
    cells = {"opened_on": "1990-01-01", "closed_on": "", "next_deadline": ""} | {column: value}
    outcome = "success" if cells["closed_on"] else ""
    if column == "closed_on":
        cells["opened_on"] = "1989-01-01"  # so that closing is not before opening
    row = (
        f",other,{cells['opened_on']},Москва,{NAME},UZ,,{outcome},{cells['closed_on']},"
        f"{cells['next_deadline']},"
    )
    page = html.unescape(_upload(client, _csv(row)).text)
    assert f"Row 2: {column}: This date is {english}; check the year." in page
    ru = html.unescape(_upload(client, _csv(row), headers=RU).text)
    assert f"Строка 2: {column}: " in ru and russian in ru
    assert row_counts(app) == before


def test_the_ends_of_the_range_are_taken(client, app, coordinator):
    login(client, coordinator)
    before = row_counts(app)
    rows = [
        f",other,1990-01-01,Москва,{NAME},UZ,,success,1990-01-01,2100-12-31,",
        f",other,1990-01-02,Москва,{NAME},UZ,,,,2100-12-31,",
    ]
    response = _upload(client, _csv(*rows))
    assert response.status_code == 200, html.unescape(response.text)
    assert "Done. New cases: 2" in _apply(client).get_data(as_text=True)
    assert row_counts(app)["cases"] == before["cases"] + 2
