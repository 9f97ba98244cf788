"""Synthetic demo data: same seed, same data (references and pseudonym codes included).

Rows go in with bulk INSERTs in batches, so large seeds take minutes rather than hours. Dates
fall in a fixed window ending on ``DEMO_UNTIL``, so a seed gives the same data on any day.
"""

import random
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.access import COORDINATOR, VOLUNTEER
from app.audit.services import acting, record_event
from app.auth.models import User
from app.auth.queries import user_by_email
from app.auth.services import create_user
from app.cases.models import OUTCOMES, Case, TimelineEntry
from app.cases.queries import active_rules, work_calendars
from app.cases.terms import term_end
from app.clients.matching import search_digests
from app.clients.models import Client, ClientIndex
from app.crypto import new_data_key, seal, seal_context, wrap
from app.deadlines.models import Deadline, trigger_date
from app.demo import data
from app.extensions import db
from app.identifiers import new_case_reference, new_pseudonym

DEMO_FROM = date(2023, 1, 1)
DEMO_UNTIL = date(2026, 11, 1)
BATCH = 5_000
PHONE_PREFIX = {
    "UZ": "+99890",
    "TJ": "+99292",
    "KG": "+996555",
    "KZ": "+7701",
    "TM": "+99365",
    "AZ": "+99450",
    "AF": "+9370",
}


def _pick(rng: random.Random, shares: dict):
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _users(n_cases: int) -> tuple[list[User], list[User]]:
    """Demo volunteers and coordinators (no password: they cannot log in), made once."""
    n_volunteers = max(3, min(60, n_cases // 150))
    wanted = [(f"volunteer{i:02d}@demo.invalid", VOLUNTEER) for i in range(1, n_volunteers + 1)]
    wanted += [(f"coordinator{i}@demo.invalid", COORDINATOR) for i in (1, 2)]
    users = []
    for email, role in wanted:
        user = user_by_email(email)
        if user is None:
            user = create_user(email, role, None, by=None)
            user.created_at = datetime.combine(DEMO_FROM, time(), tzinfo=UTC)
        users.append(user)
    db.session.flush()
    return users[:n_volunteers], users[n_volunteers:]


def _unique(make, rng: random.Random, taken: set[str]) -> str:
    while (code := make(rng)) in taken:
        pass
    taken.add(code)
    return code


def _stamp(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC) + timedelta(minutes=rng.randrange(600))


class _Seeder:
    def __init__(self, seed: int, n_cases: int) -> None:
        self.rng = random.Random(seed)
        self.volunteers, self.coordinators = _users(n_cases)
        self.references = set(db.session.execute(sa.select(Case.reference)).scalars())
        self.pseudonyms = set(db.session.execute(sa.select(Client.pseudonym)).scalars())
        self.span = (DEMO_UNTIL - DEMO_FROM).days
        self.rules = {case_type: active_rules(case_type) for case_type in data.CASE_TYPE_SHARES}
        self.work = work_calendars()

    def client(self, case_type: str, opened_on: date, created_by: int) -> dict:
        rng = self.rng
        citizenship = _pick(rng, data.CITIZENSHIPS)
        source = data.NAME_SOURCE[citizenship]
        sex = rng.choice("mf")
        surname = rng.choice(data.SURNAME_STEMS[source])
        if sex == "f" and surname.endswith(("в", "н")):  # Каримов → Каримова; Каримзода stays
            surname += "а"
        name = f"{surname} {rng.choice(data.GIVEN_NAMES[source][sex])}"
        is_child = case_type == "school_refusal"
        age = rng.randint(6, 15) if is_child else rng.randint(18, 58)
        phone = PHONE_PREFIX[citizenship] + "".join(rng.choice("0123456789") for _ in range(7))
        stamp = _stamp(opened_on, rng)
        return {
            "pseudonym": _unique(new_pseudonym, rng, self.pseudonyms),
            "full_name": name,
            "citizenship": citizenship,
            "phone": phone if rng.random() < 0.85 else None,
            "messenger": rng.choice([None, None, "Telegram", "WhatsApp"]),
            "preferred_language": rng.choice(["ru", data.LANGUAGE_OF[citizenship]]),
            "born_on": opened_on - timedelta(days=age * 365 + rng.randrange(365)),
            "notes": "Связь через родителя." if is_child else None,
            "created_by_id": created_by,
            "created_at": stamp,
            "updated_at": stamp,
        }

    def case(
        self,
        client_id: int,
        case_type: str,
        opened_on: date,
        region: str,
        assigned_to: int | None,
        created_by: int,
    ) -> dict:
        rng = self.rng
        low, high = data.DAYS_TO_CLOSE[case_type]
        closes_on = opened_on + timedelta(days=rng.randint(low, high))
        is_closed = closes_on <= DEMO_UNTIL
        stamp = _stamp(opened_on, rng)
        row = {
            "reference": _unique(new_case_reference, rng, self.references),
            "client_id": client_id,
            "case_type": case_type,
            "opened_on": opened_on,
            "region": region,
            "authority": self.authority(case_type, region),
            "summary": rng.choice(data.SUMMARIES[case_type]),
            "created_by_id": created_by,
            "assigned_to_id": assigned_to,
            "outcome": rng.choices(list(OUTCOMES), data.OUTCOME_SHARES[case_type])[0]
            if is_closed
            else None,
            "closed_on": closes_on if is_closed else None,
            "created_at": stamp,
            "updated_at": stamp,
            "offence_article": None,
            "ruling_on": None,
            "ruling_received_on": None,
            "school_name": None,
            "school_grade": None,
            "refusal_on": None,
            "refusal_reason": None,
            "decision_learned_on": None,
        }
        if case_type == "deportation_challenge":
            ruling_on = opened_on - timedelta(days=rng.randint(0, 4))
            row |= {
                "offence_article": rng.choice(data.OFFENCE_ARTICLES),
                "ruling_on": ruling_on,
                "ruling_received_on": min(opened_on, ruling_on + timedelta(days=rng.randint(0, 3))),
            }
        elif case_type == "school_refusal":
            row |= {
                "school_name": f"ГБОУ Школа № {rng.randint(1, 2100)}",
                "school_grade": rng.choice(data.SCHOOL_GRADES),
                "refusal_on": opened_on - timedelta(days=rng.randint(0, 10)),
                "refusal_reason": _pick(rng, data.REFUSAL_REASON_SHARES),
            }
        elif case_type == "registry_error":
            row["decision_learned_on"] = opened_on - timedelta(days=rng.randint(0, 20))
        return row

    def deadlines(self, case_id: int, case: dict) -> list[dict]:
        """The rule deadlines the app would have given the case: met once it was done, mostly
        met or now and then missed while open, open while still ahead."""
        rows = []
        for rule in self.rules[case["case_type"]]:
            start = trigger_date(case, rule.trigger)
            if start is None or not rule.applies_on(start):
                continue
            due_on = term_end(start, rule.length, rule.unit, self.work.for_region(case["region"]))
            status, resolved_on = "open", None
            if case["closed_on"] or due_on < DEMO_UNTIL - timedelta(days=5):
                status = "missed" if not case["closed_on"] and self.rng.random() < 0.05 else "met"
                resolved_on = (
                    due_on
                    if status == "missed"
                    else min(due_on, case["opened_on"] + timedelta(days=3))
                )
            rows.append(
                {
                    "case_id": case_id,
                    "rule_id": rule.id,
                    "due_on": due_on,
                    "title": rule.name,
                    "legal_basis": rule.legal_basis,
                    "status": status,
                    "resolved_on": resolved_on,
                    "is_extended": False,
                    "created_by_id": case["created_by_id"],
                    "created_at": case["created_at"],
                }
            )
        return rows

    def authority(self, case_type: str, region: str) -> str:
        if case_type == "school_refusal":
            return f"{data.SCHOOL_AUTHORITY}, {region}"
        if case_type == "registry_error":
            return f"{data.REGISTRY_AUTHORITY}, {region}"
        return self.rng.choice(data.COURTS.get(region, [f"{region}, {data.DEFAULT_COURT}"]))

    def entries(self, case_id: int, case: dict) -> list[dict]:
        rng, opened_on = self.rng, case["opened_on"]
        end = case["closed_on"] or DEMO_UNTIL
        kinds = ["note", "filing"] + (
            ["hearing"] if case["case_type"] == "deportation_challenge" else []
        )
        rows = []
        for kind in kinds:
            day = opened_on + timedelta(days=rng.randint(0, 10))
            if day <= end:
                rows.append(self.entry(case_id, kind, day, data.ENTRY_TEXTS[kind], case))
        if case["closed_on"]:
            rows.append(self.entry(case_id, "decision", end, data.ENTRY_TEXTS["decision"], case))
            rows.append(self.entry(case_id, "closed", end, None, case, outcome=case["outcome"]))
        return rows

    def entry(self, case_id, kind, day, body, case, outcome=None) -> dict:
        return {
            "case_id": case_id,
            "kind": kind,
            "occurred_on": day,
            "body": body,
            "outcome": outcome,
            "created_by_id": case["assigned_to_id"] or case["created_by_id"],
            "created_at": _stamp(day, self.rng),
        }

    def batch(self, size: int) -> tuple[int, int]:
        rng = self.rng
        plans, clients = [], []
        for _ in range(size):
            case_type = _pick(rng, data.CASE_TYPE_SHARES)
            opened_on = DEMO_FROM + timedelta(days=int(self.span * rng.random() ** 0.8))
            region = _pick(rng, data.REGIONS)
            assigned = rng.choice(self.volunteers).id if rng.random() < 0.9 else None
            created_by = (
                assigned if assigned and rng.random() < 0.7 else rng.choice(self.coordinators).id
            )
            # About one client in eight comes back with another case.
            if clients and rng.random() < 0.12:
                client_index = rng.randrange(len(clients))
            else:
                clients.append(self.client(case_type, opened_on, created_by))
                client_index = len(clients) - 1
            plans.append((client_index, case_type, opened_on, region, assigned, created_by))
        keys = [new_data_key() for _ in clients]
        client_ids = _insert_returning_ids(
            Client, [_sealed_client(c, k) for c, k in zip(clients, keys, strict=True)]
        )
        db.session.execute(
            sa.insert(ClientIndex.__table__),
            [
                {"client_id": client_id, "kind": kind, "digest": digest}
                for client_id, client in zip(client_ids, clients, strict=True)
                for kind, digest in search_digests(client["full_name"], client["phone"], None)
            ],
        )
        cases = [self.case(client_ids[i], *rest) for i, *rest in plans]
        key_of = {cid: key for cid, key in zip(client_ids, keys, strict=True)}
        case_ids = _insert_returning_ids(
            Case, [_sealed_case(c, key_of[c["client_id"]]) for c in cases]
        )
        entries = [
            _sealed_entry(row, case["reference"], key_of[case["client_id"]])
            for case_id, case in zip(case_ids, cases, strict=True)
            for row in self.entries(case_id, case)
        ]
        db.session.execute(sa.insert(TimelineEntry.__table__), entries)
        deadlines = [
            _sealed_texts(row, "deadlines", case["reference"], key_of[case["client_id"]])
            for case_id, case in zip(case_ids, cases, strict=True)
            for row in self.deadlines(case_id, case)
        ]
        if deadlines:
            db.session.execute(sa.insert(Deadline.__table__), deadlines)
        return len(clients), len(cases)


SEALED_CLIENT_FIELDS = ("full_name", "phone", "messenger", "born_on", "notes")
SEALED_TEXTS = {m.__tablename__: m.SEALED_TEXTS for m in (Case, TimelineEntry, Deadline)}


def _sealed_client(row: dict, key: bytes) -> dict:
    """The row as the database keeps it: identifiers sealed with the client's own key (the same
    as ``Client`` does, in bulk)."""
    code = row["pseudonym"]
    sealed = {**row, "data_key": wrap(key, seal_context("clients", "data_key", code))}
    for name in SEALED_CLIENT_FIELDS:
        value = row[name]
        value = value.isoformat() if isinstance(value, date) else value
        sealed[name] = seal(key, value, f"clients.{name}.{code}")
    return sealed


def _sealed_texts(row: dict, table: str, reference: str, key: bytes) -> dict:
    """The row with its typed texts sealed with the client's key, bound to the case's
    reference (the same as the models do, in bulk)."""
    sealed = dict(row)
    for name in SEALED_TEXTS[table]:
        sealed[name] = seal(key, row.get(name), f"{table}.{name}.{reference}")
    return sealed


def _sealed_case(row: dict, key: bytes) -> dict:
    return _sealed_texts(row, "cases", row["reference"], key)


def _sealed_entry(row: dict, reference: str, key: bytes) -> dict:
    return _sealed_texts(row, "timeline_entries", reference, key)


def _insert_returning_ids(model, rows: list[dict]) -> list[int]:
    table = model.__table__
    statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(db.session.execute(statement, rows).scalars())


def seed_demo(n_cases: int, seed: int) -> dict[str, int]:
    """Add ``n_cases`` synthetic cases with their clients, timelines and demo users.
    The caller commits."""
    acting(None)
    seeder = _Seeder(seed, n_cases)
    totals = {"cases": 0, "clients": 0, "users": len(seeder.volunteers) + len(seeder.coordinators)}
    for start in range(0, n_cases, BATCH):
        n_clients, n_made = seeder.batch(min(BATCH, n_cases - start))
        totals["clients"] += n_clients
        totals["cases"] += n_made
    # Bulk inserts go around the ORM, so the seed is recorded as one event.
    record_event("seed", "cases", {"cases": [None, totals["cases"]], "seed": [None, seed]})
    return totals
