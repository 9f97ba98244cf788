"""A volunteer in a court corridor asks the calculator on a phone, in Russian."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser


def test_the_calculator_on_a_russian_phone(russian_phone):
    page = russian_phone
    log_in(page, "volunteer@example.org")
    page.get_by_role("link", name="Калькулятор сроков").first.click()
    page.fill("#on", "2025-04-21")
    page.fill("#length", "10")
    page.select_option("#unit", "days")
    page.get_by_role("button", name="Посчитать").click()
    result = page.locator(".calculated")
    expect(result).to_contain_text("10 дней с 21.04.2025")
    expect(result).to_contain_text("05.05.2025")
    expect(result).to_contain_text("1–4 мая — выходные дни")
    # Bookmarkable: the question is in the address.
    assert "on=2025-04-21" in page.url and "length=10" in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
