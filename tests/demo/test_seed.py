"""`flask demo seed`: realistic, and the same seed gives the same data."""

import re

import pytest
import sqlalchemy as sa

from app.cases.models import Case
from app.clients.models import Client
from app.extensions import db
from tests.databases import BACKENDS, app_on_fresh_database

SEEDED = ("users", "clients", "cases", "timeline_entries", "deadlines")


def _seeded_dump(backend, folder, name, cases, seed):
    with app_on_fresh_database(backend, folder, name) as app, app.app_context():
        result = app.test_cli_runner().invoke(
            args=["demo", "seed", "--cases", str(cases), "--seed", str(seed)]
        )
        assert result.exit_code == 0, result.output
        dump = {
            # Sealed columns differ every time (fresh data keys and nonces): compare the rest
            # here, and the opened texts below.
            table.name: db.session.execute(
                sa.select(*(c for c in table.c if not isinstance(c.type, sa.LargeBinary))).order_by(
                    *table.primary_key
                )
            ).all()
            for table in db.metadata.sorted_tables
            if table.name in SEEDED
        }
        dump["opened"] = [
            (c.pseudonym, c.full_name, c.phone, c.messenger, c.born_on, c.notes)
            for c in db.session.execute(sa.select(Client).order_by(Client.id)).scalars()
        ] + [
            (
                case.reference,
                [getattr(case, name) for name in Case.SEALED_TEXTS],
                [e.body for e in case.entries],
                [(d.title, d.legal_basis) for d in case.deadlines],
            )
            for case in db.session.execute(sa.select(Case).order_by(Case.id)).scalars()
        ]
    return result.output, dump


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_gives_the_same_data_and_another_seed_does_not(backend, tmp_path):
    output, first = _seeded_dump(backend, tmp_path, "seed_a", 300, 42)
    _, again = _seeded_dump(backend, tmp_path, "seed_b", 300, 42)
    _, other = _seeded_dump(backend, tmp_path, "seed_c", 300, 43)
    assert "Seeded 300 cases" in output
    assert len(first["cases"]) == 300 and first["timeline_entries"]
    assert first == again, "same seed, different data"
    assert first["cases"] != other["cases"]


def test_demo_data_looks_like_the_work(app, ctx):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", "3000", "--seed", "5"])
    assert result.exit_code == 0, result.output
    names = [c.full_name for c in db.session.execute(sa.select(Client)).scalars()]
    assert all(re.fullmatch(r"[А-ЯЁа-яё]+ [А-ЯЁа-яё]+", n) for n in names)
    regions = set(db.session.execute(sa.select(Case.region)).scalars())
    assert {
        "Москва",
        "Московская область",
        "Санкт-Петербург",
        "Екатеринбург",
        "Новосибирск",
    } <= regions
    assert set(db.session.execute(sa.select(Client.citizenship)).scalars()) >= {"UZ", "TJ", "KG"}

    def rate(case_type):
        successful, decided = db.session.execute(
            sa.select(
                sa.func.count().filter(Case.is_successful), sa.func.count().filter(Case.is_decided)
            ).where(Case.case_type == case_type)
        ).one()
        return successful / decided

    # Near the published rates: 90% for deportation challenges, 35–40% for school refusals.
    assert 0.84 <= rate("deportation_challenge") <= 0.95
    assert 0.30 <= rate("school_refusal") <= 0.46
    still_open = db.session.execute(sa.select(sa.func.count()).where(Case.is_open)).scalar()
    assert 0 < still_open < 3000
    # The typed texts are sealed like the rest, and open with the client's key.
    school = db.session.execute(
        sa.select(Case).where(Case.case_type == "school_refusal").limit(1)
    ).scalar_one()
    assert school.school_name.startswith("ГБОУ Школа № ") and school.authority
    assert "Школа".encode() not in school._school_name
    [deadline] = school.deadlines
    assert deadline.title == deadline.rule.name and "219" in deadline.legal_basis


def test_seeding_twice_adds_without_clashing(app, ctx):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed", "--cases", "50", "--seed", "1"]).exit_code == 0
    assert runner.invoke(args=["demo", "seed", "--cases", "50", "--seed", "1"]).exit_code == 0
    references = db.session.execute(sa.select(Case.reference)).scalars().all()
    assert len(references) == len(set(references)) == 100
