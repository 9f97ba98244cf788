"""A login flood against a real gunicorn (gunicorn.conf.py: gthread, 2 workers x 8 threads) with
production argon2id parameters (64 MiB a hash): how long other pages take and how much memory
the workers hold, quiet and while FLOODERS connections post wrong passwords as fast as they are
answered.

    python bench/login_flood.py [SECONDS] [FLOODERS] [sqlite|postgresql]
                                        (default 20 s, 24 flooders, SQLite)

PostgreSQL: a database BENCH_DATABASE_URL (or TEST_DATABASE_URL) names, suffixed ``_flood``,
is made afresh. Prints the latency of a logged-in reader's pages and of a writer's notes (median,
95th percentile, max), the workers' resident memory (peak of their sum, sampled every 50 ms),
quiet and flooded, and how the flood was answered (status codes). Traffic goes to 127.0.0.1.
"""

import collections
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.liveserver import Person, flask_command, prepare, serving

PASSWORD = "flood bench passphrase, long enough"
READER = "reader@example.org"
PAGES = ("/cases", "/deadlines", "/login")
# Behind the proxy gunicorn trusts (127.0.0.1), the flood comes from one address, the staff
# from another.
FLOODER, STAFF = "203.0.113.9", "198.51.100.7"
KINDS = {
    "wrong": "Wrong email or password",
    "locked": "Too many failed attempts",
    "busy": "Many people are logging in",
    "database busy": "database is busy",
}


def person_at(base: str, address: str) -> Person:
    person = Person(base)
    person.opener.addheaders = [("X-Forwarded-For", address)]
    return person


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class MemoryWatch(threading.Thread):
    """The peak of the workers' summed resident memory, sampled every 50 ms."""

    def __init__(self, served) -> None:
        super().__init__(daemon=True)
        self.served, self.peak, self.running = served, 0.0, True

    def run(self) -> None:
        while self.running:
            try:
                total = sum(rss_mb(pid) for pid in self.served.worker_pids())
            except OSError:
                total = 0.0
            self.peak = max(self.peak, total)
            time.sleep(0.05)

    def stop(self) -> float:
        self.running = False
        self.join()
        return self.peak


def logged_in(base: str) -> Person:
    person = person_at(base, STAFF)
    person.log_in(READER, PASSWORD)
    assert "/logout" in person.call("/cases"), "the bench's reader could not log in"
    return person


def read_pages(person: Person, seconds: float) -> list[float]:
    """A logged-in person reading pages one after another; their latencies in ms."""
    person.latencies.clear()
    until = time.monotonic() + seconds
    n = 0
    while time.monotonic() < until:
        person.call(PAGES[n % len(PAGES)])
        n += 1
    return [t * 1000 for t in person.latencies]


def save_notes(person: Person, seconds: float) -> tuple[list[float], list[str]]:
    """A logged-in person adding notes to a case one after another: latencies (ms), errors."""
    listing = person.call("/cases")
    reference = re.search(r"/cases/(HQ-[0-9A-Z]{4}-[0-9A-Z]{4})", listing).group(1)
    token = person.token(person.call(f"/cases/{reference}"))
    person.latencies.clear()
    person.errors.clear()
    until = time.monotonic() + seconds
    n = 0
    while time.monotonic() < until:
        n += 1
        person.call(
            f"/cases/{reference}/entries",
            {**token, "kind": "note", "occurred_on": "2025-05-06", "body": f"заметка {n}"},
        )
    return [t * 1000 for t in person.latencies], list(person.errors)


def try_logins(base: str, seconds: float) -> collections.Counter:
    """Someone logging in (the right password) once a second: how they were answered."""
    answers: collections.Counter = collections.Counter()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        person = person_at(base, STAFF)
        page = person.call("/login")
        body = {**person.token(page), "email": READER, "password": PASSWORD}
        try:
            with person.opener.open(f"{base}/login", _encode(body), timeout=120) as response:
                response.read()
                answers["logged in" if response.url.endswith("/cases") else "refused"] += 1
        except OSError as error:
            answers[f"{getattr(error, 'code', type(error).__name__)}"] += 1
        time.sleep(1)
    return answers


def flood(base: str, until: float, answers: collections.Counter, n: int) -> None:
    """Wrong passwords for ever-new emails, as fast as they are answered."""
    person = person_at(base, FLOODER)
    page = person.call("/login")
    token = person.token(page)
    i = 0
    while time.monotonic() < until:
        i += 1
        body = {**token, "email": f"guess{n}-{i}@example.org", "password": "not the password!"}
        try:
            with person.opener.open(f"{base}/login", _encode(body), timeout=120) as response:
                answers[response.status] += 1
                response.read()
        except OSError as error:
            text = error.read().decode(errors="replace") if hasattr(error, "read") else ""
            kind = next((k for k, phrase in KINDS.items() if phrase in text), "")
            answers[f"{getattr(error, 'code', type(error).__name__)} {kind}".strip()] += 1


def _encode(body: dict) -> bytes:
    import urllib.parse

    return urllib.parse.urlencode(body).encode()


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) > 1 else ordered[0]
    return (
        f"median {statistics.median(ordered):7.0f} ms, 95th {p95:7.0f} ms, "
        f"max {ordered[-1]:7.0f} ms ({len(ordered)} pages)"
    )


def prepare_postgresql(folder: Path, users: dict[str, str], cases: int) -> dict:
    """As ``prepare``, on a fresh PostgreSQL database."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    server = make_url(os.environ.get("BENCH_DATABASE_URL") or os.environ["TEST_DATABASE_URL"])
    server = server.set(drivername="postgresql+psycopg")
    name = f"{server.database}_flood"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    url = server.set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "HUQUQ_INSTANCE": str(folder), "DATABASE_URL": url}
    flask_command(env, "db", "upgrade")
    for email, role in users.items():
        flask_command(env, "users", "create", email, "--role", role, stdin=PASSWORD + "\n")
    flask_command(env, "demo", "seed", "--cases", str(cases), "--seed", "1")
    return env


def main(seconds: int, flooders: int, backend: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="huquq-flood-"))
    if backend == "postgresql":
        env = prepare_postgresql(folder, {READER: "coordinator"}, cases=300)
    else:
        env = prepare(folder, {READER: "coordinator"}, PASSWORD, cases=300, seed=1)
    env.pop("HUQUQ_HASHING_SLOTS", None)
    with serving(env, folder / "gunicorn.log", workers=2) as served:
        reader, writer = logged_in(served.base), logged_in(served.base)
        read_pages(reader, 3)  # warm up: every worker has served pages
        results: dict = {}

        def phase(name: str, length: float) -> None:
            threads = [
                threading.Thread(
                    target=lambda: results.setdefault(f"notes {name}", save_notes(writer, length))
                ),
                threading.Thread(
                    target=lambda: results.setdefault(
                        f"logins {name}", try_logins(served.base, length)
                    )
                ),
            ]
            for thread in threads:
                thread.start()
            results[f"pages {name}"] = read_pages(reader, length)
            for thread in threads:
                thread.join()

        watch = MemoryWatch(served)
        watch.start()
        phase("quiet", seconds / 2)
        quiet_rss = watch.stop()

        answers: collections.Counter = collections.Counter()
        until = time.monotonic() + seconds
        flooding = [
            threading.Thread(target=flood, args=(served.base, until, answers, n), daemon=True)
            for n in range(flooders)
        ]
        watch = MemoryWatch(served)
        watch.start()
        for thread in flooding:
            thread.start()
        time.sleep(1)  # the flood is under way
        phase("flooded", seconds - 2)
        for thread in flooding:
            thread.join()
        flooded_rss = watch.stop()
    print(f"{flooders} login flooders for {seconds} s, gunicorn 2 workers x 8 threads, {backend}")
    for name in ("quiet", "flooded"):
        notes, errors = results[f"notes {name}"]
        print(f"pages, {name}:{' ' * (8 - len(name))}{summary(results[f'pages {name}'])}")
        print(f"notes, {name}:{' ' * (8 - len(name))}{summary(notes)}, errors: {len(errors)}")
        logins = ", ".join(f"{k}: {v}" for k, v in sorted(results[f"logins {name}"].items()))
        print(f"a login a second, {name}: {logins}")
    print(
        f"workers' memory (RSS, sum of 2): quiet {quiet_rss:.0f} MB, flooded {flooded_rss:.0f} MB"
    )
    print("flood answered: " + ", ".join(f"{k}: {v}" for k, v in sorted(answers.items(), key=str)))


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 20,
        int(sys.argv[2]) if len(sys.argv) > 2 else 24,
        sys.argv[3] if len(sys.argv) > 3 else "sqlite",
    )
