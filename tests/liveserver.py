"""A real Huquq for the browser tests, the load test and the benchmark: a fresh SQLite instance
made by the command line (migrations, users, demo cases), gunicorn serving it on a free local
port, and a person who visits it without a browser."""

import http.cookiejar
import itertools
import os
import random
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = re.compile(r'name="(csrf_token|client-csrf_token)"[^>]*value="([^"]+)"')


def _ports() -> range:
    """The ports this process may serve on: HUQUQ_TEST_PORTS ("low-high", default 20000-29999,
    below Linux's ephemeral range, so no outgoing connection holds one), split evenly among
    pytest-xdist's workers so that two workers never pick the same port."""
    low, high = (int(n) for n in os.environ.get("HUQUQ_TEST_PORTS", "20000-29999").split("-"))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    share = (high - low + 1) // workers
    return range(low + worker * share, low + (worker + 1) * share)


_PORTS = _ports()
_next_port = itertools.count(random.randrange(len(_PORTS)))


def free_port() -> int:
    """A port of this process's share that nothing listens on now; each call takes the next
    one, so a server just stopped does not lend its port to the next."""
    for _ in range(len(_PORTS)):
        port = _PORTS[next(_next_port) % len(_PORTS)]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_PORTS}")


def flask_command(env: dict, *args: str, stdin: str | None = None) -> None:
    """``flask --app wsgi ARGS`` in the environment ``env``."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        input=stdin,
        text=True,
    )


def prepare(
    folder: Path,
    users: dict[str, str],
    password: str,
    cases: int,
    seed: int,
    copied: bool = False,
) -> dict:
    """Migrate a new SQLite database in ``folder`` (``flask db upgrade``; or, ``copied``, copy
    the test process's migrated template and its key file there), create ``users`` (email →
    role) and seed ``cases`` demo cases; the environment that serves it is returned."""
    env = {
        **os.environ,
        "HUQUQ_INSTANCE": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'live.sqlite3'}",
    }
    if copied:
        from tests.databases import fresh_database, migrated_template

        template = migrated_template("sqlite")
        shutil.copy2(template.keys, folder / "huquq.keys")
        fresh_database("sqlite", folder, "live", template.url)
    else:
        flask_command(env, "db", "upgrade")
    for email, role in users.items():
        flask_command(env, "users", "create", email, "--role", role, stdin=password + "\n")
    flask_command(env, "demo", "seed", "--cases", str(cases), "--seed", str(seed))
    return env


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:PORT
    pid: int  # gunicorn's master process

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        return [int(pid) for pid in children.split()]


@contextmanager
def serving(
    env: dict,
    log: Path,
    workers: int,
    threads: int | None = None,
    config: str = "gunicorn.conf.py",
    options: tuple[str, ...] = (),
    tls: tuple[Path, Path] | None = None,
):
    """gunicorn with ``config`` (``gunicorn.conf.py``) and ``options``, up and answering
    /healthz, its error log in ``log``; over HTTPS with ``tls`` (certificate, key files)."""
    port = free_port()
    command = [
        *(sys.executable, "-m", "gunicorn", "--config", config),
        *("--bind", f"127.0.0.1:{port}", "--workers", str(workers)),
        *(("--threads", str(threads)) if threads else ()),  # else gunicorn.conf.py's
        *(("--certfile", str(tls[0]), "--keyfile", str(tls[1])) if tls else ()),
        *options,
        *("--error-logfile", str(log), "wsgi:app"),
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=tls[0]) if tls else None
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(
                    f"{base}/healthz", timeout=1, context=trust
                ) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            server.kill()
            raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
        yield Served(base, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


class Person:
    """Someone using the served app through its pages: cookies kept, CSRF tokens taken from
    each form, every error and latency noted."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def call(self, path: str, data: dict | None = None) -> str:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        start = time.perf_counter()
        try:
            with self.opener.open(self.base + path, body, timeout=60) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            if error.code >= 500 or error.code == 400:
                self.errors.append(f"{error.code} {path}")
        except OSError as error:
            self.errors.append(f"{type(error).__name__} {path}")
            text = ""
        self.latencies.append(time.perf_counter() - start)
        return text

    def download(self, path: str) -> int:
        """The bytes of a (large) download, counted and dropped as they arrive."""
        size = 0
        with self.opener.open(self.base + path, timeout=600) as response:
            while chunk := response.read(1 << 16):
                size += len(chunk)
        return size

    def token(self, html: str) -> dict:
        found = TOKEN.findall(html)
        return {found[-1][0]: found[-1][1]} if found else {}

    def log_in(self, email: str, password: str) -> None:
        page = self.call("/login")
        self.call("/login", {**self.token(page), "email": email, "password": password})
