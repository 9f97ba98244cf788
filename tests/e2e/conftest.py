"""A real server (gunicorn, real migrations, real CLI) and a real browser (Debian's Chromium,
driven by Playwright). Nothing is downloaded: Playwright is pointed at the system browser."""

import os
import shutil

import pytest

from tests.liveserver import prepare, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "browser test passphrase"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn serving a fresh SQLite database, with a volunteer, a coordinator, an admin and
    demo cases made by the command line."""
    folder = tmp_path_factory.mktemp("live")
    users = {f"{role}@example.org": role for role in ("volunteer", "coordinator", "admin")}
    env = prepare(folder, users, PASSWORD, cases=300, seed=2, copied=True)
    with serving(env, folder / "gunicorn.log", workers=2) as served:
        yield served.base


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(
                "chromium is missing in CI: scripts/ensure-chromium should have installed it"
            )
        pytest.skip("browser tests skipped: Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser, live_server, **options):
    context = browser.new_context(base_url=live_server, **options)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status}: {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    page.on(
        "request",
        lambda r: (
            problems.append(f"off-site: {r.url}")
            if not r.url.startswith(live_server) and not r.url.startswith("data:")
            else None
        ),
    )
    return context, page, problems


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")


def _checked(browser, live_server, **options):
    """A page that fails its test on any of ``_page``'s problems once the test is done."""
    context, page, problems = _page(browser, live_server, **options)
    yield page
    context.close()
    assert problems == []


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def desktop(browser, live_server):
    """A desktop-sized page, failing the test on the same problems as ``phone``."""
    yield from _checked(browser, live_server, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized page that fails the test on a console error (CSP violations included), a
    stylesheet, script or image that fails to load, or any request to another host. (A page
    itself may answer 4xx: a refused form is a 422.)"""
    yield from _checked(browser, live_server, locale="en-GB", **PHONE)


@pytest.fixture
def russian_phone(browser, live_server):
    """A phone whose browser asks for Russian, failing on the same problems as ``phone``."""
    yield from _checked(browser, live_server, locale="ru-RU", **PHONE)
