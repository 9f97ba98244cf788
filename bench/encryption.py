"""How much sealing costs: search, export and the dashboard, each against a baseline measured
in the same run on the same data. Prints ratios; run with `make bench-encryption`.

    python bench/encryption.py [CASES]
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade

from app import create_app
from app.auth.models import User
from app.cases.models import Case
from app.clients.models import Client
from app.clients.queries import clients_matching
from app.exports.services import export_cases
from app.extensions import db
from app.reports.queries import Filters, Period, report_rows
from config import TestConfig


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main(cases: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="huquq-bench-"))
    path = folder / "bench.sqlite3"
    app = create_app(TestConfig(f"sqlite:///{path}", folder))
    with app.app_context():
        upgrade()
        app.test_cli_runner().invoke(args=["demo", "seed", "--cases", str(cases), "--seed", "1"])
        admin = User(email="bench@example.org", role="admin")
        sample = db.session.execute(sa.select(Client).limit(1)).scalar_one()
        name, code = sample.full_name.split()[0], sample.pseudonym
        rows = []

        search = best_of(5, lambda: clients_matching(name, admin))
        by_code = best_of(
            5,
            lambda: (
                db.session.execute(sa.select(Client).where(Client.pseudonym == code))
                .scalars()
                .all()
            ),
        )
        rows.append(("search by surname (keyed hash) vs lookup by code", search, by_code))

        def export(identified):
            return lambda: sum(1 for _ in export_cases({}, None, identified, by=None))

        db.session.commit()
        plain = best_of(3, export(False))
        named = best_of(3, export(True))
        sqlite_csv = best_of(
            3,
            lambda: subprocess.run(
                [
                    "sqlite3",
                    "-csv",
                    str(path),
                    "SELECT reference, case_type, opened_on, region, "
                    "client_id, outcome, closed_on, summary FROM cases",
                ],
                check=True,
                capture_output=True,
            ),
        )
        rows.append(("export, pseudonymised (summaries opened) vs sqlite3 -csv", plain, sqlite_csv))
        rows.append(("export, identified (names opened too) vs sqlite3 -csv", named, sqlite_csv))

        report = best_of(5, lambda: report_rows(Period(), Filters()))
        raw = best_of(
            5,
            lambda: db.session.execute(
                sa.select(Case.case_type, Case.outcome, sa.func.count()).group_by(
                    Case.case_type, Case.outcome
                )
            ).all(),
        )
        rows.append(("dashboard report vs raw GROUP BY", report, raw))

    print(f"{cases} cases, SQLite")
    print(f"{'measure':60} {'ours':>9} {'baseline':>9} {'ratio':>7}")
    for label, ours, base in rows:
        print(f"{label:60} {ours * 1000:8.1f}ms {base * 1000:8.1f}ms {ours / base:7.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
