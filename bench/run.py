"""`make bench`: Huquq's speed, each figure against a baseline measured in the same run on the
same data, printed as a ratio. SQLite always; PostgreSQL too when BENCH_DATABASE_URL (or
TEST_DATABASE_URL) points at a server.

    python bench/run.py [CASES]       (default 200,000; 0: only the import's figures)
"""

import contextlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade

from app import create_app
from app.audit.queries import forget_figures
from app.auth.models import User
from app.cases.models import Case
from app.cases.queries import case_page, cursor_of
from app.clients.models import Client
from app.clients.queries import clients_matching
from app.exports.queries import case_export_query
from app.exports.services import export_cases
from app.extensions import db
from app.reports.queries import Filters, Period, report_rows
from bench import pages
from bench.imports import measure_import
from config import TestConfig
from tests import databases
from tests.liveserver import Person, flask_command, serving

PASSWORD = "bench passphrase, long enough"


def best(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(backend: str, url: str, folder: Path, cases: int) -> list[tuple]:
    app = create_app(TestConfig(url, folder))
    rows = []
    with app.app_context():
        upgrade()
        start = time.perf_counter()
        result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", str(cases)])
        assert result.exit_code == 0, result.output
        seeded = time.perf_counter() - start
        rows.append(
            (f"demo seed ({cases:,} cases)", f"{seeded:.0f} s", f"{cases / seeded:,.0f}/s", "")
        )
        admin = User(id=0, email="bench@example.org", role="admin")

        first = best(5, lambda: case_page({}, admin, 25))
        deep_index = min(cases - 30, 250_000)  # page 10,000 at 25 a page, or as deep as there is
        anchor = db.session.execute(
            sa.select(Case)
            .order_by(Case.opened_on.desc(), Case.id.desc())
            .offset(deep_index)
            .limit(1)
        ).scalar_one()
        after = cursor_of(anchor)
        deep = best(5, lambda: case_page({}, admin, 25, after=after))
        rows.append(
            (
                f"case list: page {deep_index // 25:,} vs page 1",
                f"{deep * 1000:.1f} ms",
                f"{first * 1000:.1f} ms",
                f"{deep / first:.2f} (limit 2)",
            )
        )

        def report_afresh():
            forget_figures()
            return report_rows(Period(), Filters())

        report = best(5, report_afresh)
        again = best(5, lambda: report_rows(Period(), Filters()))
        # The figures the report needs, per case type, written by hand as one GROUP BY.
        closed = "closed_on IS NOT NULL AND outcome"
        raw_sql = (
            "SELECT case_type, count(*) FILTER (WHERE opened_on IS NOT NULL), "
            "count(*) FILTER (WHERE closed_on IS NULL), "
            f"count(*) FILTER (WHERE {closed} IN ('success', 'partial', 'failure')), "
            f"count(*) FILTER (WHERE {closed} IN ('success', 'partial')), "
            + ", ".join(
                f"count(*) FILTER (WHERE {closed} = '{o}')"
                for o in ("success", "partial", "failure", "withdrawn")
            )
            + " FROM cases GROUP BY case_type"
        )
        raw = best(5, lambda: db.session.execute(sa.text(raw_sql)).all())
        rows.append(
            (
                "dashboard report vs the same figures in raw SQL",
                f"{report * 1000:.1f} ms",
                f"{raw * 1000:.1f} ms",
                f"{report / raw:.2f} (limit 1.5)",
            )
        )
        rows.append(
            (
                "dashboard report again, nothing changed, vs raw",
                f"{again * 1000:.1f} ms",
                f"{raw * 1000:.1f} ms",
                f"{again / raw:.3f} (well under 1.5)",
            )
        )

        sample = db.session.execute(sa.select(Client).limit(1)).scalar_one()
        surname = sample.full_name.split()[0]
        search = best(5, lambda: clients_matching(surname, admin))
        by_code = best(
            5,
            lambda: (
                db.session.execute(sa.select(Client).where(Client.pseudonym == sample.pseudonym))
                .scalars()
                .all()
            ),
        )
        rows.append(
            (
                "search by surname (keyed hashes) vs by code",
                f"{search * 1000:.1f} ms",
                f"{by_code * 1000:.1f} ms",
                f"{search / by_code:.1f}",
            )
        )

        db.session.commit()

        def export():
            return sum(1 for _ in export_cases({}, None, False, by=None))

        ours = best(2, export)  # the second run reads a warm cache, as the baseline's does
        db.session.remove()
        baseline_name, command = _baseline(backend, url)
        baseline = best(2, lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL))
        target = "0.3" if backend == "sqlite" else "0.5"
        rows.append(
            (
                f"export rows/s vs {baseline_name} (sealed summaries opened)",
                f"{cases / ours:,.0f}/s",
                f"{cases / baseline:,.0f}/s",
                f"{baseline / ours:.2f} (at least {target})",
            )
        )
        # The same rows as the export's own query gives them, written by the database's tool:
        # what reading them costs before anything is opened or written in Python.
        query_name, command = _baseline(backend, url, _export_sql())
        alone = best(2, lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL))
        rows.append(
            (
                f"export rows/s vs {query_name} of the export's query",
                f"{cases / ours:,.0f}/s",
                f"{cases / alone:,.0f}/s",
                f"{alone / ours:.2f}",
            )
        )
        took, idle, peak, server, helper = _served_export(backend, url, folder)
        rows.append(
            (
                "the same export downloaded from gunicorn",
                f"{cases / took:,.0f}/s",
                f"{cases / baseline:,.0f}/s",
                f"{baseline / took:.2f}",
            )
        )
        rows.append(
            (
                "gunicorn worker memory (RSS): during that export vs idle",
                f"{peak:.0f} MB",
                f"{idle:.0f} MB",
                "(limit 100 MB)",
            )
        )
        rows.append(
            (
                "the worker's fork server for export helpers (RSS)",
                f"{server:.0f} MB",
                "",
                "",
            )
        )
        rows.append(
            (
                "each export helper (RSS; forked by it, most pages shared)",
                f"{helper:.0f} MB",
                "",
                "",
            )
        )
        db.engine.dispose()
    return rows


def _baseline(backend: str, url: str, sql: str | None = None) -> tuple[str, list[str]]:
    """The database's own command-line tool writing the whole cases table as CSV, or what
    ``sql`` selects."""
    u = sa.engine.make_url(url)
    if backend == "sqlite":
        return "sqlite3 -csv", ["sqlite3", "-csv", str(u.database), sql or "SELECT * FROM cases"]
    return "psql \\copy", [
        *("psql", "-h", u.host, "-U", u.username or "postgres", "-d", u.database),
        *("-c", f"\\copy {f'({sql})' if sql else 'cases'} TO STDOUT WITH CSV"),
    ]


def _export_sql() -> str:
    """The whole export's query (every case), its values written in."""
    query = case_export_query({}, None)
    sql = str(query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    return sql.replace("\n", " ")  # psql reads a \copy command to the end of its line


def _resident_mb(pid: int) -> float:
    """A process's resident memory; 0 for one that has ended and waits to be reaped."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024 if "VmRSS:" in status else 0.0


def _children(pid: int) -> list[int]:
    children = []
    with contextlib.suppress(FileNotFoundError):  # gone since it was found
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                children += map(int, (task / "children").read_text().split())
    return children


def _largest_mb(pids: list[int]) -> float:
    sizes = []
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):  # gone since the list was read
            sizes.append(_resident_mb(pid))
    return max(sizes, default=0.0)


def _helpers_mb(pid: int) -> tuple[float, float]:
    """The resident memory of a worker's fork server (its child), and the largest among the
    export's helpers (the fork server's children)."""
    servers = _children(pid)
    return _largest_mb(servers), _largest_mb([h for s in servers for h in _children(s)])


def _served_export(backend: str, url: str, folder: Path) -> tuple[float, ...]:
    """A coordinator downloads the cases CSV from gunicorn (one threaded worker) while the
    worker's resident memory, its fork server's and its export helpers', is sampled every
    20 ms: seconds taken, idle and peak MB of the worker, peak MB of its fork server and of a
    helper."""
    env = {**os.environ, "HUQUQ_INSTANCE": str(folder), "DATABASE_URL": url}
    email = f"bench-{backend}@example.org"
    flask_command(env, "users", "create", email, "--role", "coordinator", stdin=PASSWORD + "\n")
    with serving(env, folder / f"gunicorn-{backend}.log", workers=1) as served:
        [worker] = served.worker_pids()
        person = Person(served.base)
        person.log_in(email, PASSWORD)
        idle = _resident_mb(worker)
        peak, servers, helpers, done = [idle], [0.0], [0.0], threading.Event()

        def sample():
            while not done.wait(0.02):
                peak.append(_resident_mb(worker))
                server, helper = _helpers_mb(worker)
                servers.append(server)
                helpers.append(helper)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.perf_counter()
        size = person.download("/exports/cases.csv")
        took = time.perf_counter() - start
        done.set()
        sampler.join()
    assert size > 0 and not person.errors, person.errors
    return took, idle, max(peak), max(servers), max(helpers)


IMPORT_ROWS = 20_000


def measure_import_speed(backend: str, url: str, folder: Path) -> list[tuple]:
    """A 20,000-row import applied on a fresh database of its own: rows/s from checking the
    file to the commit, and the seconds the write lock was held, against the driver's own
    executemany of the same case rows."""
    app = create_app(TestConfig(url, folder))
    with app.app_context():
        upgrade()
        took = measure_import(IMPORT_ROWS)
        db.session.remove()
        db.engine.dispose()
    rows = IMPORT_ROWS
    whole = took["plan"] + took["apply"]
    return [
        (
            f"import {rows:,} rows (check + apply) vs raw executemany",
            f"{rows / whole:,.0f}/s",
            f"{rows / took['baseline']:,.0f}/s",
            f"{took['baseline'] / whole:.3f} (≥2,000/s)",
        ),
        (
            "  of which: check / prepare (reading) / write (lock held)",
            f"{took['write']:.2f} s lock",
            f"{took['plan']:.1f} + {took['prepare']:.1f} s",
            "",
        ),
    ]


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    folder = Path(tempfile.mkdtemp(prefix="huquq-bench-"))
    targets = [("sqlite", f"sqlite:///{folder / 'bench.sqlite3'}")]
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if server:
        databases.PG_URL = server
        targets.append(("postgresql", databases.fresh_database("postgresql", folder, "bench")))
    for backend, url in targets:
        print(f"\n{backend}, {cases:,} cases")
        print(f"| {'measure':58} | {'ours':>14} | {'baseline':>14} | {'ratio':>18} |")
        print(f"|{'-' * 60}|{'-' * 16}|{'-' * 16}|{'-' * 20}|")
        if backend == "sqlite":
            imports_url = f"sqlite:///{folder / 'bench-import.sqlite3'}"
        else:
            imports_url = databases.fresh_database("postgresql", folder, "bench_import")
        measures = measure_import_speed(backend, imports_url, folder)
        if cases:
            measures += measure(backend, url, folder, cases)
        for label, ours, base, ratio in measures:
            print(f"| {label:58} | {ours:>14} | {base:>14} | {ratio:>18} |")
    pages.main()  # what a page costs on gunicorn, 20,000 cases, against /healthz


if __name__ == "__main__":
    main()
