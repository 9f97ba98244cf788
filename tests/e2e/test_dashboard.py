"""A coordinator reads the dashboard in a real browser; the charts draw and the tables sort."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser


def test_coordinator_reads_the_dashboard_and_sorts_a_breakdown(desktop):
    log_in(desktop, "coordinator@example.org")
    desktop.get_by_role("link", name="Dashboard").click()
    expect(desktop.get_by_role("heading", name="Dashboard")).to_be_visible()
    charts = desktop.get_by_role("img")
    expect(charts).to_have_count(3)
    expect(desktop.locator("svg.chart circle.rate").first).to_be_visible()
    expect(desktop.locator(".sentence").first).to_contain_text("Our rate")

    region = desktop.locator("table.sortable").first
    decided = region.locator("thead th").nth(3)
    decided.get_by_role("button").click()
    expect(decided).to_have_attribute("aria-sort", "ascending")
    values = [
        int(re.sub(r"\D", "", v)) for v in region.locator("tbody td:nth-child(4)").all_inner_texts()
    ]
    assert values == sorted(values) and len(values) > 3
    decided.get_by_role("button").click()
    values = [
        int(re.sub(r"\D", "", v)) for v in region.locator("tbody td:nth-child(4)").all_inner_texts()
    ]
    assert values == sorted(values, reverse=True)

    desktop.get_by_text("Period and filters").click()
    desktop.get_by_role("link", name="Last 12 months").click()
    expect(desktop.locator(".period")).to_contain_text("Period:")
    with desktop.expect_download() as download:
        desktop.get_by_role("link", name="Download CSV").click()
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert content.startswith("case_type,period_from,period_to,")
