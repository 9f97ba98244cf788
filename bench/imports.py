"""The import benchmark: a 20,000-row file applied on a fresh database (``bench/run.py`` prints
it beside its other figures)."""

import random
import time
from datetime import date, timedelta

from app.auth.services import create_user
from app.csvfiles import CASE_HEADERS
from app.extensions import db
from app.imports.services import apply_import, plan_import

HEADER = ",".join(CASE_HEADERS)
TYPES = ("deportation_challenge", "school_refusal", "registry_error", "forced_labour", "other")
SURNAMES = ("Каримов", "Рахимов", "Юсупов", "Назаров", "Саидов", "Алиев", "Турсунов", "Исмоилов")
GIVEN = ("Алишер", "Шерзод", "Далер", "Бахтиёр", "Фарход", "Рустам", "Нодир", "Улугбек")
REGIONS = ("Москва", "Санкт-Петербург", "Казань", "Екатеринбург", "Новосибирск")
OUTCOMES = ("success", "partial", "failure", "withdrawn")
EMAIL = "importer@example.org"


def import_file(rows: int, seed: int = 15) -> bytes:
    """``rows`` new cases: about one client in three met again, a third closed, a third with
    a deadline ahead, summaries of a few sentences."""
    rng = random.Random(seed)
    lines = [HEADER]
    for n in range(rows):
        person = rng.randrange(rows * 2 // 3)
        name = f"{SURNAMES[person % 8]} {GIVEN[person // 8 % 8]} {person}"
        opened = date(2024, 1, 1) + timedelta(days=rng.randrange(600))
        closed = rng.random() < 0.33
        outcome = rng.choice(OUTCOMES) if closed else ""
        closed_on = (opened + timedelta(days=rng.randrange(1, 60))).isoformat() if closed else ""
        deadline = f"2030-01-{rng.randrange(1, 29):02d}" if rng.random() < 0.33 else ""
        summary = f"Дело {n}: протокол по ст. 18.8 КоАП; обжалование; звонил {rng.randrange(9)} раз"
        lines.append(
            f",{rng.choice(TYPES)},{opened},{rng.choice(REGIONS)},{name},UZ,{EMAIL},"
            f"{outcome},{closed_on},{deadline},{summary}"
        )
    return "\r\n".join(lines).encode()


def measure_import(rows: int) -> dict:
    """Seconds to check and to apply a ``rows``-row file, the write lock's share, and a raw
    ``executemany`` of the same case rows into a table like ``cases`` (the baseline)."""
    user = create_user(EMAIL, "coordinator", "bench passphrase, long enough", by=None)
    db.session.commit()
    data = import_file(rows)
    start = time.perf_counter()
    plan = plan_import(data)
    assert plan.ok, plan.errors[:5]
    planned = time.perf_counter()
    timings: dict = {}
    steps = apply_import(plan, user, timings)
    while True:
        try:
            next(steps)
        except StopIteration:
            break
    applied = time.perf_counter()
    db.session.commit()
    return {
        "plan": planned - start,
        "apply": applied - planned,
        "prepare": timings["prepare"],
        "write": timings["write"],
        "baseline": _raw_executemany(),
    }


def _raw_executemany() -> float:
    """Seconds to insert the imported case rows again, as they are, with the driver's own
    ``executemany`` into an empty copy of the table: the least any writer of them can take."""
    connection = db.session.connection()
    rows = connection.exec_driver_sql("SELECT * FROM cases").all()
    columns = list(rows[0]._fields)
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE bench_cases AS SELECT * FROM cases WHERE 1 = 0"
    )
    marks = ", ".join(["?" if connection.dialect.name == "sqlite" else "%s"] * len(columns))
    cursor = connection.connection.driver_connection.cursor()
    start = time.perf_counter()
    cursor.executemany(f"INSERT INTO bench_cases ({', '.join(columns)}) VALUES ({marks})", rows)
    took = time.perf_counter() - start
    db.session.rollback()
    return took
