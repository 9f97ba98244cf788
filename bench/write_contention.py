"""How long a save takes while other people save at the same time, on PostgreSQL: case saves
(close, reopen; they count the data version up) and note saves (they do not), each writer a
thread with a session and connection of its own, as gunicorn's threads have.

    python bench/write_contention.py [WRITERS] [SECONDS]    (TEST_DATABASE_URL: the server)
"""

import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from app.auth.models import User
from app.cases.models import Case
from app.cases.services import add_timeline_entry, close_case, reopen_case
from app.extensions import db
from tests.databases import app_on_fresh_database


def _writer(app, case_id: int, kind: str, until: float, latencies: list) -> None:
    with app.app_context():
        by = db.session.execute(sa.select(User).limit(1)).scalar_one_or_none()
        while time.perf_counter() < until:
            started = time.perf_counter()
            case = db.session.get(Case, case_id)
            if kind == "note":
                add_timeline_entry(case, "note", date(2025, 6, 1), "Позвонил клиенту", by)
            elif case.is_open:
                close_case(case, "success", case.opened_on, by)
            else:
                reopen_case(case, by, on=case.opened_on)
            db.session.commit()
            latencies.append(time.perf_counter() - started)


def run(app, mix: dict[str, int], seconds: float) -> dict[str, list]:
    with app.app_context():
        ids = list(db.session.execute(sa.select(Case.id).order_by(Case.id)).scalars())
    latencies = {kind: [] for kind in mix}
    until = time.perf_counter() + seconds
    threads, n = [], 0
    for kind, count in mix.items():
        for _ in range(count):
            args = (app, ids[n], kind, until, latencies[kind])
            threads.append(threading.Thread(target=_writer, args=args))
            n += 1
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def _line(label: str, values: list) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[int(len(ms) * 0.95) - 1]
    return (
        f"{label:<44} {len(ms):>6} saves  median {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms"
    )


if __name__ == "__main__":
    writers = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 15
    with (
        tempfile.TemporaryDirectory() as folder,
        app_on_fresh_database("postgresql", Path(folder), "contention") as app,
    ):
        result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", "100"])
        assert result.exit_code == 0, result.output
        for mix in (
            {"case": 1},
            {"note": 1},
            {"case": writers},
            {"note": writers},
            {"case": writers // 2, "note": writers // 2},
        ):
            got = run(app, mix, seconds)
            for kind, values in got.items():
                others = ", ".join(f"{n} {k}" for k, n in mix.items())
                print(_line(f"{kind} saves ({others} writers)", values), flush=True)
