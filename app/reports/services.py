"""Writes to benchmarks. Each takes the acting user and is audited; the caller commits."""

from collections.abc import Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.services import acting
from app.auth.models import User
from app.errors import RuleViolation
from app.extensions import db
from app.reports.models import Benchmark

FIELDS = ("case_type", "low", "high", "publication", "title", "year", "quote")


def _apply(benchmark: Benchmark, data: Mapping) -> None:
    for name in FIELDS:
        if name in data:
            setattr(benchmark, name, data[name])
    if not 0 <= benchmark.low <= benchmark.high <= 1:
        raise RuleViolation(_("Rates go from 0 to 100%, the lowest first."), field="low")
    clash = db.session.execute(
        sa.select(Benchmark.id).where(
            Benchmark.case_type == benchmark.case_type, Benchmark.id != (benchmark.id or 0)
        )
    ).first()
    if clash:
        raise RuleViolation(_("This case type has a benchmark already."), field="case_type")


def create_benchmark(data: Mapping, by: User) -> Benchmark:
    acting(by)
    benchmark = Benchmark()
    _apply(benchmark, data)
    db.session.add(benchmark)
    db.session.flush()
    return benchmark


def update_benchmark(benchmark: Benchmark, data: Mapping, by: User) -> Benchmark:
    acting(by)
    _apply(benchmark, data)
    db.session.flush()
    return benchmark
