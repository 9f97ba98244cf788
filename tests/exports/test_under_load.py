"""100 cases exports at once from gunicorn as production runs it (gthread, 2 workers × 8
threads) on SQLite, while others browse the case list and cases and save notes through the
real forms. Before, helpers forked from the threaded workers hung now and then (2 exports of
40), their worker threads waited for ever, and the WAL grew without end."""

import csv
import io
import re
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.liveserver import Person, prepare, serving

pytestmark = pytest.mark.slow

PASSWORD = "load test passphrase, long enough"
EXPORTS, CASES = 100, 400
PART_IDS = 50  # 8 parts an export: every export is read by helpers
EXPORTER, STAFF = "exporter@example.org", "staff@example.org"
HEADER = "reference,case_type,opened_on,region,client_name,citizenship,assigned_to,outcome,closed_on,next_deadline,summary"
REFERENCE = re.compile(r"/cases/(HQ-[0-9A-Z]{4}-[0-9A-Z]{4})")


def _download(person: Person, path: str) -> bytes:
    """The whole body; a download that stalls for a minute is a failure, not a hung test."""
    with person.opener.open(person.base + path, timeout=60) as response:
        return response.read()


def _problems(body: bytes) -> list[str]:
    """What is wrong with a cases CSV that should hold every case."""
    text = body.decode("utf-8")
    if not text.startswith("\ufeff" + HEADER + "\r\n") or not text.endswith("\r\n"):
        return ["header or last line"]
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))[1:]
    if len(rows) != CASES or any(len(row) != 11 for row in rows):
        return [f"{len(rows)} rows"]
    return []


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return [int(child) for task in tasks for child in (task / "children").read_text().split()]


def _browse(person: Person, stop: threading.Event) -> None:
    while not stop.is_set():
        for reference in REFERENCE.findall(person.call("/cases"))[:2]:
            person.call(f"/cases/{reference}")


def _save_note(person: Person, reference: str, n: int) -> None:
    page = person.call(f"/cases/{reference}")
    note = {"kind": "note", "occurred_on": "2025-05-06", "body": f"звонок {n}"}
    person.call(f"/cases/{reference}/entries", {**person.token(page), **note})


def _save_notes(person: Person, references: list[str], stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        _save_note(person, references[n % len(references)], n)
        n += 1


def test_exports_under_load_are_whole_leave_no_helper_and_let_the_wal_shrink(tmp_path):
    users = {EXPORTER: "coordinator", STAFF: "coordinator"}
    env = prepare(tmp_path, users, PASSWORD, CASES, 5, copied=True)
    env.update(HUQUQ_EXPORT_HELPERS="2", HUQUQ_EXPORT_PART_IDS=str(PART_IDS))
    database = tmp_path / "live.sqlite3"
    wal = Path(f"{database}-wal")
    with serving(env, tmp_path / "gunicorn.log", workers=2, threads=8) as served:
        people = [Person(served.base) for _ in range(10)]
        for n, person in enumerate(people):
            person.log_in(EXPORTER if n < 4 else STAFF, PASSWORD)
        exporters, browsers, savers = people[:4], people[4:7], people[7:]
        references = REFERENCE.findall(savers[0].call("/cases"))
        stop = threading.Event()
        busy = [threading.Thread(target=_browse, args=(p, stop)) for p in browsers]
        busy += [threading.Thread(target=_save_notes, args=(p, references, stop)) for p in savers]
        for thread in busy:
            thread.start()
        start = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=EXPORTS) as pool:
                downloads = [
                    pool.submit(_download, exporters[n % 4], "/exports/cases.csv")
                    for n in range(EXPORTS)
                ]
                bodies = [download.result() for download in downloads]
                wal_then = wal.stat().st_size
        finally:
            stop.set()
            for thread in busy:
                thread.join()
        took = time.monotonic() - start
        workers = served.worker_pids()
        left = {
            worker: {child: _children(child) for child in _children(worker)} for worker in workers
        }
        for n in range(3):  # the next saves checkpoint the WAL, and cut it back
            _save_note(savers[0], references[0], n)
        wal_after = wal.stat().st_size
    with sqlite3.connect(database) as connection:
        actions = connection.execute(
            "SELECT action, count(*) FROM audit_events WHERE action LIKE 'export_%' GROUP BY action"
        ).fetchall()
        results = connection.execute(
            "SELECT json_extract(changes, '$.result[1]'), count(*) FROM audit_events "
            "WHERE action = 'export_finished' GROUP BY 1"
        ).fetchall()
    print(f"\n{EXPORTS} exports: {took:.1f} s; WAL then {wal_then:,} B, afterwards {wal_after:,} B")
    assert [problems for body in bodies if (problems := _problems(body))] == []
    assert [person.errors for person in people if person.errors] == []
    # Each worker has its fork server, and the fork server no helper left.
    assert [list(servers.values()) for servers in left.values()] == [[[]], [[]]]
    assert wal_after < 6_000_000
    assert sorted(actions) == [("export_finished", EXPORTS), ("export_started", EXPORTS)]
    assert results == [("complete", EXPORTS)]
