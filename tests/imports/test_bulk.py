"""The bulk import writes exactly what applying each row through the service functions wrote
(tests/imports/one_by_one.py, the reference): the same file imported both ways on two fresh
databases gives the same rows in every table, the same sealed values once opened, and the
same audit trail."""

import base64
import json
from datetime import date

import pytest
import sqlalchemy as sa

from app.audit.services import acting
from app.auth.models import User
from app.auth.services import create_user
from app.cases.models import Case
from app.cases.services import add_deadline, add_timeline_entry, close_case, open_case
from app.clients.models import Client
from app.clients.services import create_client
from app.crypto import KeysDoNotOpen, unseal
from app.extensions import db
from app.imports.services import plan_import, run_import
from tests.databases import app_on_fresh_database
from tests.imports.one_by_one import run_import_one_by_one

HEADER = "reference,case_type,opened_on,region,client_name,citizenship,assigned_to,outcome,closed_on,next_deadline,summary"
COORDINATOR = "coordinator@example.org"
VOLUNTEER = "volunteer@example.org"
# Columns whose values are the moment of writing, or random, or a key: not compared.
VOLATILE = {"created_at", "updated_at", "occurred_at", "data_key"}
TABLES = ("clients", "client_index", "cases", "timeline_entries", "deadlines", "audit_events")


def _existing() -> dict[str, str]:
    """Clients and cases already there before the import (the same on both databases); the
    pseudonym codes, which are random, by name."""
    acting(None)
    coordinator = create_user(COORDINATOR, "coordinator", "a sturdy test passphrase", by=None)
    create_user(VOLUNTEER, "volunteer", "a sturdy test passphrase", by=None)
    twin_a = create_client({"full_name": "Каримов Алишер", "citizenship": "UZ"}, by=None)
    twin_b = create_client({"full_name": "Каримов Алишер", "citizenship": "UZ"}, by=None)
    rahimova = create_client({"full_name": "Рахимова Дилноза", "citizenship": "TJ"}, by=None)
    ivanov = create_client({"full_name": "Иванов Иван", "citizenship": "KG"}, by=coordinator)
    base = {"opened_on": date(2024, 5, 6), "region": "Москва"}
    open_case(twin_b, {**base, "case_type": "other", "reference": "OLD-1", "summary": "s1"}, None)
    closed = open_case(
        rahimova, {**base, "case_type": "school_refusal", "reference": "OLD-2"}, None
    )
    close_case(closed, "failure", date(2024, 11, 20), by=None)
    open_case(ivanov, {**base, "case_type": "other", "reference": "OLD-3"}, by=None)
    moved = open_case(
        ivanov,
        {**base, "case_type": "police_abuse", "reference": "OLD-4", "summary": "избит"},
        by=coordinator,
    )
    add_timeline_entry(moved, "note", date(2024, 6, 1), "позвонил", by=coordinator)
    add_deadline(moved, date(2030, 1, 10), "жалоба", by=coordinator, legal_basis="КоАП 30.3")
    open_case(rahimova, {**base, "case_type": "other", "reference": "OLD-5"}, by=None)
    open_case(rahimova, {**base, "case_type": "other", "reference": "OLD-6"}, by=None)
    deported = open_case(
        twin_a,
        {
            **base,
            "case_type": "deportation_challenge",
            "reference": "OLD-7",
            "offence_article": "18.8",
            "ruling_on": date(2024, 5, 1),
            "ruling_received_on": date(2024, 5, 2),
        },
        by=None,
    )
    closed_again = open_case(ivanov, {**base, "case_type": "other", "reference": "OLD-8"}, by=None)
    close_case(closed_again, "success", date(2024, 7, 1), by=None)
    assert deported.deadlines  # from the rule counted from the ruling's copy
    db.session.commit()
    return {c.full_name + c.citizenship + str(c.id): c.pseudonym for c in (rahimova, ivanov)}


def _rows(codes: dict[str, str]) -> list[str]:
    rahimova = next(code for name, code in codes.items() if name.startswith("Рахимова"))
    return [
        # new cases: new clients, a name met again spelt otherwise, closed, with deadlines
        ",deportation_challenge,2025-03-03,Москва,Худойбердиев Шерзод,UZ,,,,2030-03-13,Протокол",
        f",school_refusal,2025-03-04,Казань,Рахмонова Нигина,TJ,{COORDINATOR},failure,2025-04-20,,",
        ',registry_error,2025-01-10,Москва,худойбердиев  шерзод,uz,,success,2025-02-01,,"a\nb"',
        "NEW-1,other,2025-02-02,Тверь,Каримов Алишер,UZ,,withdrawn,2025-02-03,2030-01-01,",
        f"NEW-2,forced_labour,2025-02-02,Тверь,{rahimova},TJ,{VOLUNTEER},,,,=формула",
        # updates
        "OLD-1,other,2024-05-06,Москва,Каримов Алишер,UZ,,,,,s1 изменено",
        "OLD-2,school_refusal,2024-05-06,Москва,Рахимова Дилноза,TJ,,,,,",  # reopened
        f"OLD-3,other,2024-05-06,Москва,{rahimova},UZ,,,,,",  # to Rahimova, now a citizen of UZ
        "OLD-4,police_abuse,2024-05-06,Москва,Новый Человек,KZ,,,,,избит",  # to a new client
        "OLD-5,other,2024-05-06,Москва,Рахимова Дилноза,TJ,,,,,",  # unchanged
        "OLD-6,other,2024-05-06,Москва,Рахимова Дилноза,TJ,,partial,2025-01-01,2030-02-02,",
        "OLD-7,other,2024-05-06,Самара,Каримов Алишер,UZ,,,,,",  # another type: fields cleared
        "OLD-8,other,2024-05-06,Москва,Иванов Иван,KG,,failure,2024-08-01,,",  # reopened, closed
    ]


def _opened(keys: list[bytes], sealed: bytes, context: str) -> str:
    for key in keys:
        try:
            return unseal(key, sealed, context)
        except KeysDoNotOpen:
            continue
    return "<does not open>"


def _snapshot() -> dict:
    """Every row of the tables an import writes, with random codes named by row id, sealed
    values opened, and audit events in the order each row's events were written."""
    clients = {c.id: c for c in db.session.execute(sa.select(Client)).scalars()}
    references = dict(db.session.execute(sa.select(Case.id, Case.reference)).all())
    keys = [c.sealing_key() for c in clients.values()]
    names = {c.pseudonym: f"<client {i}>" for i, c in clients.items()}
    names |= {ref: f"<case {i}>" for i, ref in references.items()}

    def context(table: str, column: str, row: dict) -> str:
        if table == "clients":
            return f"clients.{column}.{clients[row['id']].pseudonym}"
        case_id = row["id"] if table == "cases" else row["case_id"]
        return f"{table}.{column}.{references[case_id]}"

    def plain(table, column, value, row):
        if table == "client_index" and column == "digest":
            return value.hex()
        if isinstance(value, bytes):
            return _opened(keys, value, context(table, column, row))
        return names.get(value, value) if isinstance(value, str) else value

    snapshot = {}
    for table in TABLES:
        columns = db.metadata.tables[table].c
        rows = [r._asdict() for r in db.session.execute(sa.select(columns).order_by(columns.id))]
        out = []
        for row in rows:
            values = {
                k: plain(table, k, v, row)
                for k, v in row.items()
                if k not in VOLATILE
                and not (k == "id" and table in ("client_index", "audit_events"))
            }
            if table == "audit_events" and row["changes"]:
                target = {"id": row["entity_id"], "case_id": row["case_id"]}
                values["changes"] = {
                    field: [
                        _opened(
                            keys, base64.b64decode(v[7:]), context(row["entity"], field, target)
                        )
                        if isinstance(v, str) and v.startswith("sealed:")
                        else names.get(v, v)
                        if isinstance(v, str)
                        else v
                        for v in change
                    ]
                    for field, change in row["changes"].items()
                }
            out.append(values)
        if table == "client_index":
            out.sort(key=lambda r: (r["client_id"], r["kind"], r["digest"]))
        if table == "audit_events":  # per row changed, in the order written
            out.sort(key=lambda r: (r["entity"], r["entity_id"] or 0))
        snapshot[table] = out
    return snapshot


def _import(app, apply) -> tuple[dict, dict]:
    with app.app_context():
        codes = _existing()
        data = "\r\n".join([HEADER, *_rows(codes)]).encode()
        plan = plan_import(data)
        assert plan.ok, plan.errors
        coordinator = db.session.execute(
            sa.select(User).where(User.email == COORDINATOR)
        ).scalar_one()
        totals = apply(plan, coordinator)
        db.session.commit()
        return totals, _snapshot()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_bulk_import_writes_what_row_by_row_wrote(backend, tmp_path):
    with app_on_fresh_database(backend, tmp_path, "bulk_reference") as app:
        expected_totals, expected = _import(app, run_import_one_by_one)
    with app_on_fresh_database(backend, tmp_path, "bulk") as app:
        totals, got = _import(app, run_import)
    assert (
        totals
        == expected_totals
        == {
            "created": 5,
            "updated": 7,
            "unchanged": 1,
            "new_clients": 3,
        }
    )
    for table in TABLES:
        assert json.dumps(
            got[table], default=str, ensure_ascii=False, indent=1, sort_keys=True
        ) == json.dumps(
            expected[table], default=str, ensure_ascii=False, indent=1, sort_keys=True
        ), table
