"""A volunteer on a phone logs a case and finds it in the list."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_volunteer_logs_a_case_on_a_phone_and_finds_it_in_the_list(phone, tmp_path):
    phone.goto("/cases")
    expect(phone).to_have_url(re.compile(r"/login"))
    phone.fill("#email", "volunteer@example.org")
    phone.fill("#password", PASSWORD)
    phone.get_by_role("button", name="Log in").click()

    phone.get_by_role("link", name="New case").first.click()
    phone.fill("#client-full_name", "Худойбердиев Шерзод")
    phone.select_option("#client-citizenship", "UZ")
    phone.fill("#client-phone", "+998 90 123-45-67")
    # The school fields are hidden until that type is chosen; the deportation ones appear.
    expect(phone.locator("#case-ruling_on")).to_be_hidden()
    phone.select_option("#case-case_type", "deportation_challenge")
    expect(phone.locator("#case-ruling_on")).to_be_visible()
    expect(phone.locator("#case-school_name")).to_be_hidden()
    phone.fill("#case-region", "Москва")
    phone.fill("#case-summary", "Протокол по ст. 18.8, назначено выдворение.")
    phone.fill("#case-offence_article", "КоАП 18.8 ч. 3.1")
    phone.fill("#case-ruling_on", "2025-03-01")
    phone.fill("#case-ruling_received_on", "2025-03-02")
    phone.get_by_role("button", name="Open case").click()

    expect(phone.locator(".flash-success")).to_contain_text("opened")
    reference = re.search(r"HQ-[0-9A-Z]{4}-[0-9A-Z]{4}", phone.locator("h1").inner_text()).group(0)
    expect(phone.locator(".facts")).to_contain_text("КоАП 18.8 ч. 3.1")
    phone.screenshot(path=str(tmp_path / "case.png"), full_page=True)

    phone.get_by_role("link", name="Cases").first.click()
    row = phone.locator("tr", has_text=reference)
    expect(row).to_contain_text("Худойбердиев Шерзод")
    expect(row).to_contain_text("open")
    # On a phone the table is laid out as cards: no horizontal scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_form_error_is_shown_beside_its_field(phone):
    phone.goto("/login")
    phone.fill("#email", "volunteer@example.org")
    phone.fill("#password", PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.goto("/cases/new")
    phone.select_option("#case-case_type", "school_refusal")
    phone.fill("#case-region", "Казань")
    phone.get_by_role("button", name="Open case").click()
    expect(phone.locator("#client-full_name-error")).to_be_visible()
    expect(phone.locator("#client-full_name")).to_have_attribute("aria-invalid", "true")
    # What was typed is kept, and the school fields stay shown for the chosen type.
    expect(phone.locator("#case-region")).to_have_value("Казань")
    expect(phone.locator("#case-school_name")).to_be_visible()
