"""A real server (gunicorn, real migrations, real CLI) and a real browser (Debian's Chromium,
driven by Playwright). Nothing is downloaded: Playwright is pointed at the system browser."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn serving a fresh SQLite database, with a volunteer, a coordinator and demo cases
    made by the command line."""
    folder = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "HUQUQ_INSTANCE": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'live.sqlite3'}",
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    for role in ("volunteer", "coordinator", "admin"):
        subprocess.run(
            [*flask, "users", "create", f"{role}@example.org", "--role", role],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            input=PASSWORD + "\n",
            text=True,
        )
    subprocess.run(
        [*flask, "demo", "seed", "--cases", "300", "--seed", "2"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail(f"the server did not start: {server.stderr.read().decode()[-2000:]}")
    yield base
    server.terminate()
    server.wait(timeout=10)


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


@pytest.fixture
def desktop(browser, live_server):
    """A desktop-sized page, failing the test on the same problems as ``phone``."""
    context, page, problems = _page(browser, live_server, viewport={"width": 1280, "height": 900})
    yield page
    context.close()
    assert problems == []


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized page that fails the test on a console error (CSP violations included), a
    stylesheet, script or image that fails to load, or any request to another host. (A page
    itself may answer 4xx: a refused form is a 422.)"""
    context, page, problems = _page(
        browser,
        live_server,
        viewport={"width": 390, "height": 844},
        locale="en-GB",
        is_mobile=True,
        has_touch=True,
    )
    yield page
    context.close()
    assert problems == []


@pytest.fixture
def russian_phone(browser, live_server):
    """A phone whose browser asks for Russian, failing on the same problems as ``phone``."""
    context, page, problems = _page(
        browser,
        live_server,
        viewport={"width": 390, "height": 844},
        locale="ru-RU",
        is_mobile=True,
        has_touch=True,
    )
    yield page
    context.close()
    assert problems == []
