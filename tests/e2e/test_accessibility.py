"""Every page, checked by axe-core in the browser: no serious or critical violation.

axe-core comes from a pinned Python package (its axe.min.js, installed with the test
requirements), and is run in the page through Playwright; nothing is fetched from a CDN."""

import re
from importlib.resources import files

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser
AXE = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
REFERENCE = re.compile(r"/cases/(HQ-[0-9A-Z]{4}-[0-9A-Z]{4})")
PSEUDONYM = re.compile(r"/clients/(P-[0-9A-Z]{4}-[0-9A-Z]{4})")

PAGES = {
    "coordinator@example.org": [
        "/cases",
        "/cases/new",
        "/clients",
        "/clients/new",
        "/dashboard",
        "/summary",
        "/deadlines",
        "/exports/cases-identified",
        "/imports/",
        "/account/password",
        "/account/calendar",
    ],
    "admin@example.org": [
        "/admin/users",
        "/admin/users/new",
        "/admin/benchmarks",
        "/admin/benchmarks/new",
        "/admin/retention",
        "/admin/deadline-rules",
        "/admin/deadline-rules/new",
        "/admin/calendar",
        "/admin/audit",
    ],
    "volunteer@example.org": ["/cases", "/summary", "/deadlines"],
}


def _serious_violations(page) -> list[str]:
    page.evaluate(AXE)  # run by the browser's devtools protocol, not by a page script
    result = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " where: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['where']}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def _check(page, path: str, found: dict) -> None:
    page.goto(path)
    problems = _serious_violations(page)
    if problems:
        found[path] = problems


def test_no_page_has_a_serious_or_critical_accessibility_violation(desktop, phone):
    found: dict[str, list[str]] = {}
    _check(desktop, "/login", found)
    for email, paths in PAGES.items():
        log_in(desktop, email)
        for path in paths:
            _check(desktop, path, found)
        if email.startswith("coordinator"):  # a case, its edit form and its client
            desktop.goto("/cases")
            reference = REFERENCE.search(desktop.content()).group(1)
            _check(desktop, f"/cases/{reference}", found)
            pseudonym = PSEUDONYM.search(desktop.content()).group(1)
            _check(desktop, f"/cases/{reference}/edit", found)
            _check(desktop, f"/clients/{pseudonym}", found)
        desktop.context.clear_cookies()
    # The volunteer's intake, on a phone.
    log_in(phone, "volunteer@example.org")
    for path in ("/cases", "/cases/new"):
        _check(phone, path, found)
    assert found == {}, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in found.items())


def test_the_check_catches_a_field_without_its_label(desktop):
    """The harness itself: axe really runs, and a page made worse is caught."""
    desktop.goto("/login")
    assert _serious_violations(desktop) == []
    desktop.evaluate("document.querySelectorAll('label').forEach(l => l.remove())")
    assert any(": label (" in v for v in _serious_violations(desktop))
