"""The main pages in Russian, in a real browser whose language is Russian: no English left."""

import re

import pytest

from app.csvfiles import CASE_HEADERS
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser

# What may stay in Latin letters on a Russian page: the product's name, CSV, the language
# switch, e-mail addresses, case references, pseudonym and country codes, quotes marked
# lang="en", and codes marked translate="no" (the CSV's column names).
# Names and formats keep their spelling in any language.
# The CSV's column names are SPEC's codes, named as such in the import help.
ALLOWED = {
    "Huquq",
    "CSV",
    "English",
    "Telegram",
    "WhatsApp",
    "UTF",
    "Windows",
    "YYYY",
    "MM",
    "DD",
    *CASE_HEADERS,
}
CODES = re.compile(r"\S+@\S+|\b(?:HQ|P)-[0-9A-Z]{4}-[0-9A-Z]{4}\b|\([A-Z]{2}\)")
LATIN_WORD = re.compile(r"\b[A-Za-z]{2,}\b")
VISIBLE_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('[lang="en"], [translate="no"], script, style, svg title, svg desc')
    .forEach(e => e.remove());
  copy.querySelectorAll('input[type=hidden]').forEach(e => e.remove());
  document.body.appendChild(copy); copy.hidden = false;
  const text = copy.innerText + ' ' + [...copy.querySelectorAll('input, textarea, select, [placeholder], [aria-label]')]
    .map(e => (e.placeholder || '') + ' ' + (e.getAttribute('aria-label') || '')).join(' ');
  copy.remove();
  return text;
}"""


def _english_left(page) -> set[str]:
    text = CODES.sub(" ", page.evaluate(VISIBLE_TEXT))
    return set(LATIN_WORD.findall(text)) - ALLOWED


def test_main_pages_have_no_english_left(russian_phone):
    russian = russian_phone
    log_in(russian, "coordinator@example.org")
    russian.goto("/cases/new")
    assert _english_left(russian) == set(), "case form"
    russian.goto("/cases")
    reference = russian.locator("table.cases tbody tr a").first.inner_text()
    russian.goto(f"/cases/{reference}")
    assert _english_left(russian) == set(), "case page"
    russian.goto("/dashboard")
    assert _english_left(russian) == set(), "dashboard"
    russian.goto("/imports/")
    assert _english_left(russian) == set(), "import page"
    russian.goto("/deadlines")
    assert _english_left(russian) == set(), "deadlines"
