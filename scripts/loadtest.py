"""`make loadtest`: gunicorn with several workers on SQLite, 8 people writing and 8 reading at
once for a minute; then every write is looked for in the database.

    python scripts/loadtest.py [SECONDS]      (default 60)

Prints requests, errors, "database is locked" lines in the server's log, latencies, and whether
every case written is there. Exits non-zero on any error or loss. Traffic goes to 127.0.0.1 only.
"""

import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.liveserver import Person, prepare, serving

PASSWORD = "load test passphrase here"
WRITERS = READERS = 8
NOTES = "SELECT count(*) FROM timeline_entries WHERE kind = 'note'"


def writer(person: Person, until: float, made: list, notes: list, n: int) -> None:
    i = 0
    while time.monotonic() < until:
        i += 1
        page = person.call("/cases/new")
        html = person.call(
            "/cases/new",
            {
                **person.token(page),
                "client-full_name": f"Нагрузочный Тест {n}-{i}",
                "client-citizenship": "UZ",
                "client-different_person": "y",
                "case-case_type": "other",
                "case-opened_on": "2025-05-05",
                "case-region": "Москва",
                "case-summary": f"запись {n}-{i}",
            },
        )
        found = re.search(r"(HQ-[0-9A-Z]{4}-[0-9A-Z]{4}) opened", html)
        if found:
            reference = found.group(1)
            made.append(reference)
            case_page = person.call(f"/cases/{reference}")
            notes.append(reference)
            person.call(
                f"/cases/{reference}/entries",
                {
                    **person.token(case_page),
                    "kind": "note",
                    "occurred_on": "2025-05-06",
                    "body": f"заметка {n}-{i}",
                },
            )
        else:
            person.errors.append("intake did not open a case")


def reader(person: Person, until: float) -> None:
    while time.monotonic() < until:
        listing = person.call("/cases")
        for reference in re.findall(r"/cases/(HQ-[0-9A-Z]{4}-[0-9A-Z]{4})", listing)[:2]:
            person.call(f"/cases/{reference}")
        person.call("/dashboard")
        person.call("/deadlines")


def main(seconds: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix="huquq-load-"))
    users = {f"load{i}@example.org": "coordinator" for i in range(WRITERS + READERS)}
    env = prepare(folder, users, PASSWORD, cases=2000, seed=1)
    database = folder / "live.sqlite3"
    with sqlite3.connect(database) as connection:
        notes_before = connection.execute(NOTES).fetchone()[0]
    log = folder / "gunicorn.log"
    with serving(env, log, workers=3, threads=4) as served:
        people = [Person(served.base) for _ in users]
        for person, email in zip(people, users, strict=True):
            person.log_in(email, PASSWORD)
        until = time.monotonic() + seconds
        made: list[str] = []
        notes: list[str] = []
        threads = [
            threading.Thread(target=writer, args=(p, until, made, notes, n))
            for n, p in enumerate(people[:WRITERS])
        ]
        threads += [threading.Thread(target=reader, args=(p, until)) for p in people[WRITERS:]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    latencies = sorted(t for p in people for t in p.latencies)
    errors = [e for p in people for e in p.errors]
    locked = log.read_text(errors="replace").count("database is locked") if log.exists() else 0
    with sqlite3.connect(database) as connection:
        stored = {row[0] for row in connection.execute("SELECT reference FROM cases")}
        notes_after = connection.execute(NOTES).fetchone()[0]
    missing = [r for r in made if r not in stored]
    lost_notes = notes_before + len(notes) - notes_after
    print(
        f"{seconds} s, 3 gunicorn workers × 4 threads, SQLite, "
        f"{WRITERS} writers + {READERS} readers"
    )
    print(f"requests: {len(latencies)}  errors: {len(errors)}  'database is locked': {locked}")
    print(
        f"latency: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"95th {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    print(f"cases written: {len(made)}  missing afterwards: {len(missing)}")
    print(f"notes written: {len(notes)}  missing afterwards: {lost_notes}")
    if errors:
        print("errors:", errors[:10])
    return 1 if errors or locked or missing or lost_notes else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 60))
