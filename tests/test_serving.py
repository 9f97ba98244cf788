"""What a real server sends and logs: gunicorn as production runs it (tests/liveserver.py), and
the Werkzeug development server of ``make run``. No ``Server`` banner; HSTS only over HTTPS (as
gunicorn sees it behind the proxy); a Permissions-Policy; an access log where a path cannot
forge a line and a calendar link's secret never appears."""

import http.client
import logging
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from app.logs import escaped, mask_log_records, without_secrets
from tests.liveserver import ROOT, Person, free_port, prepare, serving

PASSWORD = "a sturdy test passphrase"


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> dict:
    """A SQLite instance with a volunteer and a few demo cases, made by the command line."""
    folder = tmp_path_factory.mktemp("serving")
    return prepare(folder, {"vol@example.org": "volunteer"}, PASSWORD, cases=3, seed=1, copied=True)


def _get(base: str, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    """One request as sent, the path not re-encoded; the response read to the end."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def _post(base: str, path: str, body: str, headers: dict) -> http.client.HTTPResponse:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def _calendar_link(base: str) -> str:
    """The volunteer makes a calendar link; its path (with the secret) is returned."""
    person = Person(base)
    person.log_in("vol@example.org", PASSWORD)
    page = person.call("/account/calendar", person.token(person.call("/account/calendar")))
    path = re.search(r"/calendar/[^\s\"<]+\.ics", page)
    assert path, "no calendar link on the page"
    return path.group(0)


def _log_settles(log: Path, needle: str, times: int = 1) -> str:
    """The log once ``needle`` is in it ``times`` times: gunicorn writes a line after the
    response is sent, so a later request's line may come before an earlier one's."""
    for _ in range(100):
        text = log.read_text(errors="replace") if log.exists() else ""
        if text.count(needle) >= times:
            return text
        time.sleep(0.05)
    return text


@pytest.mark.slow
@pytest.mark.parametrize("ours", [True, False], ids=["our config", "no config"])
def test_no_server_banner_whatever_the_config(instance, tmp_path, ours):
    empty = tmp_path / "empty.conf.py"
    empty.write_text("")
    config = "gunicorn.conf.py" if ours else str(empty)
    with serving(instance, tmp_path / "error.log", workers=1, config=config) as server:
        for path in ("/healthz", "/login", "/no/such/page", "/static/app.css"):
            response = _get(server.base, path)
            assert response.getheader("Server") is None, (path, response.getheaders())


@pytest.mark.slow
def test_hsts_only_over_https_as_the_proxy_says(instance, tmp_path):
    with serving(instance, tmp_path / "error.log", workers=1) as server:
        plain = _get(server.base, "/login")
        secure = _get(server.base, "/login", {"X-Forwarded-Proto": "https"})
    assert plain.getheader("Strict-Transport-Security") is None
    assert secure.getheader("Strict-Transport-Security") == "max-age=63072000"
    for response in (plain, secure):
        policy = response.getheader("Permissions-Policy")
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert f"{feature}=()" in policy


@pytest.mark.slow
def test_a_login_over_https_behind_the_proxy_is_accepted(instance, tmp_path):
    """Behind the TLS proxy every form post is an HTTPS post, which Flask-WTF refuses without a
    same-origin Referer: the pages must let the browser send one to the app itself."""
    with serving(instance, tmp_path / "error.log", workers=1) as server:
        host = server.base.removeprefix("http://")
        proxied = {"X-Forwarded-Proto": "https"}
        page = _get(server.base, "/login", proxied)
        html = page.body.decode()
        assert page.getheader("Referrer-Policy") == "same-origin"
        assert '<meta name="referrer" content="same-origin">' in html
        cookie = page.getheader("Set-Cookie").split(";")[0]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        form = urllib.parse.urlencode(
            {"csrf_token": token, "email": "vol@example.org", "password": PASSWORD}
        )
        posted = {
            **proxied,
            "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        # What a browser would send under "no-referrer": nothing, which is refused.
        refused = _post(server.base, "/login", form, posted)
        # What it sends under the page's policy: the login page it came from.
        logged_in = _post(
            server.base, "/login", form, {**posted, "Referer": f"https://{host}/login"}
        )
    assert logged_in.status == 302, logged_in.body[:500]
    assert not logged_in.getheader("Location").endswith("/login")
    assert refused.status == 400


@pytest.mark.slow
def test_a_forwarded_https_from_an_untrusted_address_is_not_believed(instance, tmp_path):
    env = {**instance, "FORWARDED_ALLOW_IPS": "192.0.2.1"}  # the proxy is elsewhere
    with serving(env, tmp_path / "error.log", workers=1) as server:
        response = _get(server.base, "/login", {"X-Forwarded-Proto": "https"})
    assert response.getheader("Strict-Transport-Security") is None


@pytest.mark.slow
def test_a_path_with_cr_lf_and_nul_makes_one_escaped_access_log_line(instance, tmp_path):
    access = tmp_path / "access.log"
    options = ("--access-logfile", str(access))
    with serving(instance, tmp_path / "error.log", workers=1, options=options) as server:
        _get(server.base, "/cases/x%0d%0a127.0.0.1%20%22GET%20/forged%22%20200%00end")
        text = _log_settles(access, "forged")
    lines = text.splitlines()
    assert all(re.fullmatch(r'127\.0\.0\.1 "GET .*" \d{3} \d+ \d+ms', line) for line in lines)
    [line] = [line for line in lines if "forged" in line]
    assert '"GET /cases/x\\r\\n127.0.0.1 \\"GET /forged\\" 200\\x00end" 400 ' in line
    assert "\0" not in text and "\r" not in text


@pytest.mark.slow
def test_the_calendar_secret_is_in_no_gunicorn_log(instance, tmp_path):
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    options = ("--access-logfile", str(access), "--log-level", "debug")
    with serving(instance, errors, workers=1, options=options) as server:
        link = _calendar_link(server.base)
        token = link.removeprefix("/calendar/").removesuffix(".ics")
        assert _get(server.base, link).status == 200
        _get(server.base, link.replace("/calendar/", "/%63alendar/"))  # the same feed
        _get(server.base, link.replace("/calendar/", "//calendar/"))
        _get(server.base, f"{link}?again={token}")
        text = _log_settles(access, "calendar/", times=4)
    assert text.count("/calendar/[hidden]") >= 4, text
    assert token not in text and token not in errors.read_text()


@pytest.mark.slow
def test_the_calendar_secret_is_not_in_the_development_servers_log(instance, tmp_path):
    """``make run`` serves with ``flask run``, whose log line holds the path and query."""
    port, log = free_port(), tmp_path / "run.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)],
            cwd=ROOT,
            env=instance,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            link = _calendar_link(base)
            token = link.removeprefix("/calendar/").removesuffix(".ics")
            assert _get(base, f"{link}?again={token}").status == 200
            _get(base, "/cases/a%0d%0aforged")
            _get(base, "/healthz")
            text = _log_settles(log, "/healthz")
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert "/calendar/[hidden]" in text and token not in text
    assert "forged" in text and "\nforged" not in text


def test_the_apps_own_logs_hide_the_secret_and_escape_what_a_request_brings(app, caplog):
    mask_log_records()
    log = logging.getLogger("app.test")
    link = "/calendar/s3cr3t-T0ken.ics"
    with app.test_request_context(link):
        log.warning("feed %s from %s", link, "a\r\nforged line")
        try:
            raise ValueError(f"could not serve {link}")
        except ValueError:
            log.exception("failed")
    assert "s3cr3t" not in caplog.text and "/calendar/[hidden]" in caplog.text
    assert "a\\r\\nforged line" in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        "GET /calendar/abc.ics HTTP/1.1",
        "/%63alendar/abc.ics",
        "//calendar//abc.ics?x=1",
        "http://host/CALENDAR/abc.ics",
    ],
)
def test_every_spelling_of_a_secret_link_is_hidden(text):
    assert "abc" not in without_secrets(text)


def test_escaped_is_one_printable_line():
    text = escaped('a\r\nb\0c"d\\e\u2028f\u202eжg')
    assert text == 'a\\r\\nb\\x00c"d\\\\e\\u2028f\\u202e\\u0436g'
    assert text.isascii() and text.isprintable()


@pytest.mark.slow
def test_wsgi_entry_point_leaves_other_servers_alone(instance):
    """Imported by ``flask run`` or a script, wsgi.py does not touch gunicorn."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, wsgi; print('gunicorn' in sys.modules)"],
        cwd=ROOT,
        env=instance,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.strip() == "False", done.stderr
