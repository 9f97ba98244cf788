"""A coordinator closes a case with an outcome, and imports a spreadsheet after its dry run."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from app.csvfiles import CASE_HEADERS
from app.dates import today
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser
REFERENCE = re.compile(r"HQ-[0-9A-Z]{4}-[0-9A-Z]{4}")


def test_a_coordinator_closes_a_case_with_an_outcome(desktop):
    log_in(desktop, "coordinator@example.org")
    desktop.goto("/cases")
    open_row = desktop.locator("tbody tr", has=desktop.locator(".badge.open")).first
    reference = REFERENCE.search(open_row.inner_text()).group(0)
    open_row.get_by_role("link", name=reference).click()

    closing = desktop.locator("form[action$='/close']")
    closing.get_by_label("Outcome", exact=True).select_option("success")
    closing.get_by_role("button", name="Close case").click()

    expect(desktop.locator(".flash-success")).to_contain_text("Case closed")
    expect(desktop.locator("h1 + p .badge, .badge.success").first).to_be_visible()
    # The timeline records it, and the list now shows the outcome instead of "open".
    expect(desktop.locator(".timeline")).to_contain_text("success")
    desktop.goto("/cases")
    expect(desktop.locator("tbody tr", has_text=reference)).to_contain_text("success")


def _one_new_case_csv(name: str) -> bytes:
    row = {
        "reference": "",
        "case_type": "school_refusal",
        "opened_on": today().isoformat(),
        "region": "Екатеринбург",
        "client_name": name,
        "citizenship": "TJ",
        "assigned_to": "",
        "outcome": "",
        "closed_on": "",
        "next_deadline": "",
        "summary": "Школа № 5 отказала в приёме без объяснения причин.",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CASE_HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def test_an_import_shows_its_dry_run_and_saves_only_when_confirmed(desktop):
    log_in(desktop, "coordinator@example.org")
    desktop.goto("/imports/")
    desktop.set_input_files(
        "#file",
        {
            "name": "из таблицы.csv",
            "mimeType": "text/csv",
            "buffer": _one_new_case_csv("Рахимова Гулноза"),
        },
    )
    desktop.get_by_role("button", name="Check the file").click()

    expect(desktop.locator("h1")).to_have_text("What this import would do")
    expect(desktop.get_by_text("Dry run: nothing has been saved yet.")).to_be_visible()
    counts = desktop.locator("dl.counts")
    expect(counts.locator("div", has_text="New cases")).to_contain_text("1")
    expect(counts.locator("div", has_text="New clients")).to_contain_text("1")
    # Nothing is saved by the dry run.
    listing = desktop.request.get("/cases").text()
    assert "Рахимова Гулноза" not in listing

    desktop.get_by_role("button", name="Import 1 row").click()
    expect(desktop.locator(".progress .done")).to_contain_text("New cases: 1")
    desktop.get_by_role("link", name="To the cases").click()
    expect(desktop.locator("tbody tr").first).to_contain_text("Рахимова Гулноза")
