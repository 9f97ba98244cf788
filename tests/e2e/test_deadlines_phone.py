"""On a phone (390 px): the coordinators' deadlines page, both ways, and a hearing's time and
place on the timeline form."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser


def test_the_deadlines_page_fits_a_phone_sorted_or_grouped(phone):
    log_in(phone, "coordinator@example.org")
    phone.goto("/deadlines")
    expect(phone.get_by_role("heading", name="Deadlines", exact=True)).to_be_visible()
    expect(phone.locator(".deadline").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.get_by_role("link", name="By volunteer").click()
    expect(phone).to_have_url(re.compile(r"by=volunteer"))
    expect(phone.locator(".due-section h2").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_hearings_time_and_place_show_only_for_a_hearing(phone):
    log_in(phone, "coordinator@example.org")  # the demo's cases are coordinators' to see
    phone.goto("/cases")
    phone.locator("a[href^='/cases/HQ-']").first.click()
    expect(phone.locator("#court")).to_be_hidden()
    phone.select_option("#kind", "hearing")
    expect(phone.locator("#court")).to_be_visible()
    phone.fill("#occurred_on", "2030-05-14")
    phone.fill("#hearing_time", "14:30")
    phone.fill("#court", "Тверской районный суд")
    phone.fill("#room", "512")
    phone.fill("#body", "Заседание назначено")
    phone.get_by_role("button", name="Add", exact=True).click()
    expect(phone.locator(".flash-success")).to_be_visible()
    expect(phone.locator(".entry-hearing .place").first).to_contain_text(
        "14:30 · Тверской районный суд · courtroom 512"
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
