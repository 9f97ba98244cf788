"""What a page costs on the production server: requests a second a logged-in coordinator gets
from gunicorn (gunicorn.conf.py: gthread, 2 workers x 8 threads) on 20,000 demo cases, 8 at a
time over kept-alive connections, against /healthz (which also asks the database) and a static
file measured in the same run, printed as ratios.

    python bench/pages.py [SECONDS] [sqlite|postgresql|both]    (default 8 s a page, both)
    make bench-pages, and at the end of make bench

The case page is measured on 200 cases seen before (their bodies remembered, as on a second
view: app/rendered.py), and apart from that on cases each seen for the first time.

PostgreSQL when BENCH_DATABASE_URL (or TEST_DATABASE_URL) names a server: a database named after
it, suffixed ``_pages``, is made afresh. ``make bench`` runs it too. Needs no root and nothing
beyond the standard library (the load generator is ``hammer`` below, ab's ``-c 8 -k`` in Python).
"""

import http.client
import os
import random
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.liveserver import Person, flask_command, serving

PASSWORD = "pages bench passphrase, long enough"
COORDINATOR = "pages-bench@example.org"
CASES = 20_000
CONCURRENCY = 8
# (label, what a request asks for, least ratio to /healthz); a list of paths is taken in turn
# at random, so that no page is served from one case's warm rows alone.
LIMITS = {"case page": 0.4, "case list": 0.4, "dashboard": 0.2}


def hammer(base: str, paths: list[str], cookie: str, seconds: float) -> tuple[float, int, int]:
    """``CONCURRENCY`` connections, kept alive, each asking for one of ``paths`` as soon as the
    last answer is read, for ``seconds``: (requests a second, requests, failures)."""
    netloc = urlsplit(base).netloc
    counts = [0] * CONCURRENCY
    failures = [0] * CONCURRENCY
    start = threading.Event()
    deadline = [0.0]

    def run(n: int) -> None:
        pick = random.Random(n).choice
        connection = http.client.HTTPConnection(netloc, timeout=60)
        headers = {"Cookie": cookie} if cookie else {}
        start.wait()
        while time.perf_counter() < deadline[0]:
            try:
                connection.request("GET", pick(paths), headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(netloc, timeout=60)
                ok = False
            counts[n] += ok
            failures[n] += not ok
        connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.set()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    return sum(counts) / took, sum(counts), sum(failures)


def warm(base: str, paths: list[str], cookie: str) -> None:
    """Each of ``CONCURRENCY`` kept-alive connections (each stays with one worker) asks for
    every one of ``paths`` once: every worker has served every page before it is timed."""
    netloc = urlsplit(base).netloc

    def run() -> None:
        connection = http.client.HTTPConnection(netloc, timeout=60)
        for path in paths:
            connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            connection.getresponse().read()
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _prepare(backend: str, folder: Path) -> dict:
    env = {**os.environ, "HUQUQ_INSTANCE": str(folder)}
    if backend == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{folder / 'pages.sqlite3'}"
    else:
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url

        server = make_url(os.environ.get("BENCH_DATABASE_URL") or os.environ["TEST_DATABASE_URL"])
        server = server.set(drivername="postgresql+psycopg")
        name = f"{server.database}_pages"
        engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        env["DATABASE_URL"] = server.set(database=name).render_as_string(hide_password=False)
    for name in ("HUQUQ_WORKERS", "HUQUQ_THREADS"):  # gunicorn.conf.py's defaults: 2 x 8
        env.pop(name, None)
    flask_command(env, "db", "upgrade")
    flask_command(env, "users", "create", COORDINATOR, "--role", "coordinator", stdin=PASSWORD)
    flask_command(env, "demo", "seed", "--cases", str(CASES), "--seed", "1")
    return env


def _references(env: dict) -> list[str]:
    """Every case's reference, shuffled the same way in every run."""
    import sqlalchemy as sa

    engine = sa.create_engine(env["DATABASE_URL"])
    with engine.connect() as connection:
        found = list(
            connection.execute(sa.text("SELECT reference FROM cases ORDER BY id")).scalars()
        )
    engine.dispose()
    random.Random(1).shuffle(found)
    return found


def _cookie(person: Person) -> str:
    """The Cookie header of a logged-in person's session."""
    [jar] = [
        h.cookiejar
        for h in person.opener.handlers
        if isinstance(h, urllib.request.HTTPCookieProcessor)
    ]
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def measure(backend: str, seconds: float) -> list[tuple[str, float, int, int]]:
    """Requests a second for each page, in one run against one gunicorn."""
    folder = Path(tempfile.mkdtemp(prefix=f"huquq-pages-{backend}-"))
    env = _prepare(backend, folder)
    references = _references(env)
    seen, unseen = references[:200], references[200:]
    with serving(env, folder / "gunicorn.log", workers=2) as served:
        person = Person(served.base)
        person.log_in(COORDINATOR, PASSWORD)
        cookie = _cookie(person)
        assert "Cases" in person.call("/cases") and not person.errors, person.errors
        pages = [
            ("/healthz", ["/healthz"], ""),
            ("static file", ["/static/app.css"], ""),
            ("case page", [f"/cases/{r}" for r in seen], cookie),
            ("case list", ["/cases"], cookie),
            ("dashboard", ["/dashboard"], cookie),
        ]
        for _, paths, with_cookie in pages:  # warm up
            warm(served.base, paths, with_cookie)
            hammer(served.base, paths, with_cookie, 1.0)
        results = [(label, *hammer(served.base, paths, c, seconds)) for label, paths, c in pages]
        # Each case seen for the first time: nothing remembered, every body rendered.
        first = hammer(served.base, [f"/cases/{r}" for r in unseen], cookie, seconds)
        return [*results, ("case page, first view of each", *first)]


def table(backend: str, results: list[tuple[str, float, int, int]]) -> list[str]:
    health = results[0][1]
    lines = [
        f"{backend}, {CASES:,} cases, gunicorn 2 workers x 8 threads, {CONCURRENCY} at a time",
        f"| {'page':34} | {'requests/s':>10} | {'failed':>6} | {'ratio to /healthz':>22} |",
        f"|{'-' * 36}|{'-' * 12}|{'-' * 8}|{'-' * 24}|",
    ]
    for label, rate, _, failed in results:
        limit = LIMITS.get(label)
        ratio = f"{rate / health:.2f}" + (f" (at least {limit})" if limit else "")
        name = label + (" (coordinator)" if label in LIMITS else "")
        lines.append(f"| {name:34} | {rate:>10,.0f} | {failed:>6} | {ratio:>22} |")
    return lines


def backends(which: str) -> list[str]:
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    chosen = ["sqlite", "postgresql"] if which == "both" else [which]
    return [b for b in chosen if b == "sqlite" or server]


def main(seconds: float = 8.0, which: str = "both") -> None:
    for backend in backends(which):
        print("\n".join(["", *table(backend, measure(backend, seconds))]), flush=True)


if __name__ == "__main__":
    main(
        float(sys.argv[1]) if len(sys.argv) > 1 else 8.0,
        sys.argv[2] if len(sys.argv) > 2 else "both",
    )
