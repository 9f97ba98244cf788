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


def read_pages(base: str, seconds: float) -> list[float]:
    """A logged-in person reading pages one after another; their latencies in ms."""
    person = Person(base)
    person.log_in(READER, PASSWORD)
    person.latencies.clear()
    until = time.monotonic() + seconds
    n = 0
    while time.monotonic() < until:
        person.call(PAGES[n % len(PAGES)])
        n += 1
    return [t * 1000 for t in person.latencies]


def save_notes(base: str, seconds: float) -> tuple[list[float], list[str]]:
    """A logged-in person adding notes to a case one after another: latencies (ms), errors."""
    person = Person(base)
    person.log_in(READER, PASSWORD)
    listing = person.call("/cases")
    reference = re.search(r"/cases/(HQ-[0-9A-Z]{4}-[0-9A-Z]{4})", listing).group(1)
    page = person.call(f"/cases/{reference}")
    token = person.token(page)
    person.latencies.clear()
    until = time.monotonic() + seconds
    n = 0
    while time.monotonic() < until:
        n += 1
        person.call(
            f"/cases/{reference}/entries",
            {**token, "kind": "note", "occurred_on": "2025-05-06", "body": f"заметка {n}"},
        )
    return [t * 1000 for t in person.latencies], person.errors


def flood(base: str, until: float, answers: collections.Counter, n: int) -> None:
    """Wrong passwords for ever-new emails, as fast as they are answered."""
    person = Person(base)
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
            answers[getattr(error, "code", type(error).__name__)] += 1
            if hasattr(error, "read"):
                error.read()


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
        read_pages(served.base, 3)  # warm up: every worker has served pages
        watch = MemoryWatch(served)
        watch.start()
        notes: dict = {}
        writer = threading.Thread(
            target=lambda: notes.setdefault("quiet", save_notes(served.base, seconds / 2))
        )
        writer.start()
        quiet = read_pages(served.base, seconds / 2)
        writer.join()
        quiet_rss = watch.stop()

        answers: collections.Counter = collections.Counter()
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(target=flood, args=(served.base, until, answers, n), daemon=True)
            for n in range(flooders)
        ]
        watch = MemoryWatch(served)
        watch.start()
        for thread in threads:
            thread.start()
        time.sleep(1)  # the flood is under way
        writer = threading.Thread(
            target=lambda: notes.setdefault("flooded", save_notes(served.base, seconds - 2))
        )
        writer.start()
        flooded = read_pages(served.base, seconds - 2)
        writer.join()
        for thread in threads:
            thread.join()
        flooded_rss = watch.stop()
    print(f"{flooders} login flooders for {seconds} s, gunicorn 2 workers x 8 threads, {backend}")
    print(f"pages, quiet:   {summary(quiet)}")
    print(f"pages, flooded: {summary(flooded)}")
    for when in ("quiet", "flooded"):
        latencies, errors = notes[when]
        print(f"notes, {when}:{' ' * (8 - len(when))}{summary(latencies)}, errors: {errors}")
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
