"""Applying a checked import in bulk: everything is worked out first, while only reading (new
clients' keys and pseudonym codes, sealed texts, keyed hashes for search, references, every
row and every audit event as plain values); then one short write transaction inserts and
updates them many rows per statement (COPY on PostgreSQL). Other people's saves wait for the
write lock only while the rows are written, not while they are prepared.

What it writes is exactly what applying each row through the service functions the forms use
writes (``open_case``, ``update_case``, ``close_case``, ``reopen_case``, ``add_deadline``,
``create_client``, ``update_client``): the same rows, the same sealed values, the same audit
events, step by step (a case opened and closed by one row is recorded opened, then closed).
tests/imports/test_bulk.py holds that reference and compares every table on both databases.
Since the audit trail's ORM hook sees none of these rows, each event is written here, beside
its row, in the same transaction.
"""

import json
import time
from collections.abc import Generator
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app import dates, models_base
from app.audit.models import AuditEvent
from app.audit.services import acting, change, event_row, insert_changes
from app.cases.models import Case, TimelineEntry, other_type_fields
from app.cases.queries import active_rules, work_calendars
from app.cases.terms import term_end
from app.clients.matching import search_digests
from app.clients.models import Client
from app.crypto import new_data_key, seal, unseal, unwrap, wrap
from app.database import begin_reading, writing
from app.deadlines.models import Deadline, trigger_date
from app.errors import ErasedRecord, RuleViolation
from app.extensions import db
from app.identifiers import new_case_reference, new_pseudonym

TABLES = {
    "clients": Client,
    "cases": Case,
    "timeline_entries": TimelineEntry,
    "deadlines": Deadline,
}
SEALED = {
    "cases": Case.SEALED_TEXTS,
    "timeline_entries": TimelineEntry.SEALED_TEXTS,
    "deadlines": ("title", "legal_basis"),
}
CASE_FIELDS = ("case_type", "opened_on", "region", "summary", "assigned_to_id")
CHUNK = 2000


class CasesChanged(RuleViolation):
    """A case the import updates was changed by someone while the import was prepared."""


class New:
    """The row an import adds to ``table``: its id is known once ids are taken for the write
    (PostgreSQL's sequences before it, SQLite's next free ids within it)."""

    __slots__ = ("id", "table")

    def __init__(self, table: str) -> None:
        self.table, self.id = table, None


def _id(value):
    return value.id if isinstance(value, New) else value


class Batch:
    """Everything an import writes, as plain values."""

    def __init__(self) -> None:
        self.new = {table: [] for table in TABLES}  # [(New, row)], in the order written
        self.index: list[dict] = []  # client_index rows
        self.events: list[dict] = []  # audit rows; "changes" may hold New ids
        self.case_updates: dict[int, dict] = {}  # case id → its final values, seen version
        self.updates = {"clients": {}, "timeline_entries": {}, "deadlines": {}}  # id → values
        self.template = None

    def add(self, table: str, row: dict) -> New:
        new = New(table)
        row["id"] = new
        self.new[table].append((new, row))
        return new

    def event(self, action: str, entity: str, entity_id, case_id, changes: dict) -> None:
        if self.template is None:  # who, when and how: the same for every event of the import
            self.template = event_row(action, entity, None, None, {})
        self.events.append(
            {
                **self.template,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "case_id": case_id,
                "changes": changes,
            }
        )


class _Keys:
    """Existing clients' data keys, each unwrapped once (None once their data was erased)."""

    def __init__(self) -> None:
        self.keys = {}

    def existing(self, client_id: int, wrapped: bytes | None, pseudonym: str) -> bytes | None:
        if client_id not in self.keys:
            context = f"clients.data_key.{pseudonym}"
            self.keys[client_id] = unwrap(wrapped, context) if wrapped is not None else None
        return self.keys[client_id]


def _load_cases(ids: list[int]) -> tuple[dict, dict, dict]:
    """The cases an import updates, each as its column values; their timeline entries' and
    deadlines' ids and sealed texts (what moving a case to another client seals again)."""
    table = Case.__table__
    cases, entries, deadlines = {}, {}, {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for row in db.session.execute(sa.select(table).where(table.c.id.in_(chunk))):
            cases[row.id] = row._asdict()
        entry = TimelineEntry.__table__
        for row in db.session.execute(
            sa.select(
                entry.c.id, entry.c.case_id, *(entry.c[n] for n in SEALED["timeline_entries"])
            )
            .where(entry.c.case_id.in_(chunk))
            .order_by(entry.c.id)
        ):
            entries.setdefault(row.case_id, []).append(row._asdict())
        deadline = Deadline.__table__
        for row in db.session.execute(
            sa.select(deadline).where(deadline.c.case_id.in_(chunk)).order_by(deadline.c.id)
        ):
            deadlines.setdefault(row.case_id, []).append(row._asdict())
    return cases, entries, deadlines


def _load_clients(ids: set[int]) -> dict:
    table = Client.__table__
    found = {}
    ids = sorted(ids)
    for start in range(0, len(ids), CHUNK):
        query = sa.select(table.c.id, table.c.pseudonym, table.c.data_key, table.c.citizenship)
        for row in db.session.execute(query.where(table.c.id.in_(ids[start : start + CHUNK]))):
            found[row.id] = row._asdict()
    return found


class _Preparation:
    """Works out a plan's rows and events, row by row in the file's order, as the services
    would have done them one after the other."""

    def __init__(self, plan, by_id: int | None) -> None:
        self.plan, self.by_id, self.batch = plan, by_id, Batch()
        self.today = dates.today()
        self.keys = _Keys()
        self.new_clients: dict[tuple, dict] = {}  # name key → the new client's row
        updated = [r.case_id for r in plan.rows if r.action == "update"]
        self.cases, self.entries, self.deadlines = _load_cases(updated)
        wanted = {
            r.client_id for r in plan.rows if r.client_id is not None and r.action != "unchanged"
        }
        wanted |= {c["client_id"] for c in self.cases.values()}
        self.clients = _load_clients(wanted)
        self.rules: dict[str, list] = {}
        self.work = None
        self.imported_title = _("Next deadline (imported)")
        self.reopened_note = _("Changed by a CSV import.")

    # clients

    def client(self, row) -> tuple:
        """(id or New, data key) of the row's client; a new client is made, or an existing
        one's citizenship changed, as ``create_client`` and ``update_client`` would."""
        if row.client_id is not None:
            client = self.clients[row.client_id]
            if row.citizenship != client["citizenship"]:
                self.batch.event(
                    "update",
                    "clients",
                    client["id"],
                    None,
                    {"citizenship": change(client["citizenship"], row.citizenship)},
                )
                client["citizenship"] = row.citizenship
                self.batch.updates["clients"][client["id"]] = client
            key = self.keys.existing(client["id"], client["data_key"], client["pseudonym"])
            return client["id"], key
        name_key = (row.name_key, row.citizenship)
        if name_key not in self.new_clients:
            self.new_clients[name_key] = self._new_client(row.client_name, row.citizenship)
        made = self.new_clients[name_key]
        return made["id"], made["key"]

    def _new_client(self, full_name: str, citizenship: str) -> dict:
        pseudonym, key = new_pseudonym(), new_data_key()
        context = f"clients.{{}}.{pseudonym}"
        row = {
            "pseudonym": pseudonym,
            "data_key": wrap(key, context.format("data_key")),
            "citizenship": citizenship,
            "created_by_id": self.by_id,
            "full_name": seal(key, full_name, context.format("full_name")),
        }
        new = self.batch.add("clients", row)
        self.batch.event("insert", "clients", new, None, insert_changes(Client, row))
        self.batch.index += [
            {"client_id": new, "kind": kind, "digest": digest}
            for kind, digest in search_digests(full_name, None, None)
        ]
        return {"id": new, "key": key}

    # cases

    def create(self, row, client_id, key) -> None:
        values, reference = row.values, row.reference or new_case_reference()
        case = {
            "reference": reference,
            "client_id": client_id,
            **{k: values[k] for k in CASE_FIELDS},
            "created_by_id": self.by_id,
            "version": 1,
            "summary": self._seal(key, values["summary"], "cases", "summary", reference),
        }
        new = self.batch.add("cases", case)
        self.batch.event("insert", "cases", new, new, insert_changes(Case, case))
        if values["outcome"]:
            self._close(case, new, values["outcome"], values["closed_on"])
        if values["next_deadline"]:
            self._deadline(new, reference, key, values["next_deadline"])

    def update(self, row, client_id, key) -> None:
        values, case = row.values, self.cases[row.case_id]
        case_id, reference = case["id"], case["reference"]
        seen, entries = case["version"], [dict(e) for e in self.entries.get(case_id, [])]
        old = self.clients[case["client_id"]]
        old_key = self.keys.existing(old["id"], old["data_key"], old["pseudonym"])
        if case["outcome"] is not None and (case["outcome"], case["closed_on"]) != (
            values["outcome"],
            values["closed_on"],
        ):
            self._reopen(case, old_key, entries)
        changes, final = {}, dict(case)
        texts = {
            name: self._open(old_key, case[name], "cases", name, reference)
            for name in SEALED["cases"]
        }
        moved = client_id != case["client_id"]
        if moved:
            changes["client_id"] = change(case["client_id"], client_id)
            final["client_id"] = client_id
            for name, text in texts.items():
                final[name] = self._seal(key, text, "cases", name, reference)
            self._reseal_children(case_id, reference, old_key, key, entries)
        self._apply(final, values, texts, key)
        changes |= {
            column: change(case[column], final[column])
            for column in Case.__table__.c.keys()  # noqa: SIM118  (column names, in order)
            if column not in ("version", "updated_at", "created_at", "client_id")
            and final[column] != case[column]
        }
        if changes:
            final["version"] += 1
            self.batch.event("update", "cases", case_id, case_id, changes)
        case.update(final)
        self._sync_rule_deadlines(case, reference, key)
        if values["outcome"] and case["outcome"] is None:
            self._close(case, case_id, values["outcome"], values["closed_on"])
        if values["next_deadline"] and "next_deadline" in row.changes:
            self._deadline(case_id, reference, key, values["next_deadline"])
        self.batch.case_updates[case_id] = {"values": case, "seen": seen}
        self.entries[case_id] = entries

    def _apply(self, final: dict, values: dict, texts: dict, key) -> None:
        """As ``update_case``: the row's fields set, a summary sealed anew only when its text
        changed, and another case type's fields cleared."""
        for name in CASE_FIELDS:
            if name == "summary":
                if values["summary"] != texts["summary"]:
                    final["summary"] = self._seal(
                        key, values["summary"], "cases", "summary", final["reference"]
                    )
            elif values[name] != final[name]:
                final[name] = values[name]
        for name in other_type_fields(final["case_type"]):
            final[name] = None

    def _reopen(self, case: dict, key, entries: list) -> None:
        previous = case["outcome"]
        self.batch.event(
            "update",
            "cases",
            case["id"],
            case["id"],
            {
                "outcome": change(previous, None),
                "closed_on": change(case["closed_on"], None),
            },
        )
        case["outcome"], case["closed_on"] = None, None
        case["version"] += 1
        body = self._seal(key, self.reopened_note, "timeline_entries", "body", case["reference"])
        new = self._entry(case["id"], "reopened", self.today, body, previous)
        entries.append({"id": new, "case_id": case["id"], "body": body, "row": new})

    def _close(self, case: dict, case_id, outcome: str, on: date) -> None:
        self.batch.event(
            "update",
            "cases",
            case_id,
            case_id,
            {"outcome": change(None, outcome), "closed_on": change(None, on)},
        )
        case["outcome"], case["closed_on"] = outcome, on
        case["version"] += 1
        self._entry(case_id, "closed", on, None, outcome)

    def _entry(self, case_id, kind: str, on: date, body, outcome) -> New:
        entry = {
            "case_id": case_id,
            "kind": kind,
            "occurred_on": on,
            "body": body,
            "outcome": outcome,
            "created_by_id": self.by_id,
        }
        new = self.batch.add("timeline_entries", entry)
        self.batch.event(
            "insert", "timeline_entries", new, case_id, insert_changes(TimelineEntry, entry)
        )
        return new

    def _deadline(self, case_id, reference: str, key, due_on: date, **fields) -> New:
        deadline = {
            "case_id": case_id,
            "rule_id": None,
            "due_on": due_on,
            "title": self._seal(key, self.imported_title, "deadlines", "title", reference),
            "legal_basis": None,
            "status": "open",
            "resolved_on": None,
            "is_extended": False,
            "created_by_id": self.by_id,
            **fields,
        }
        new = self.batch.add("deadlines", deadline)
        self.batch.event("insert", "deadlines", new, case_id, insert_changes(Deadline, deadline))
        self.deadlines.setdefault(case_id, []).append(deadline)
        return new

    def _reseal(self, row: dict, table: str, reference: str, old_key, key) -> dict:
        """Seal ``row``'s texts of ``table`` anew with ``key`` (in place); their changes."""
        changes = {}
        for name in SEALED[table]:
            if row.get(name) is not None:
                text = self._open(old_key, row[name], table, name, reference)
                sealed = self._seal(key, text, table, name, reference)
                changes[name] = change(row[name], sealed)
                row[name] = sealed
        return changes

    def _reseal_children(self, case_id: int, reference: str, old_key, key, entries) -> None:
        """A case moved to another client: its timeline's and deadlines' texts sealed anew
        with the new client's key, as ``Case.reseal_for`` does."""
        for entry in entries:
            changes = self._reseal(entry, "timeline_entries", reference, old_key, key)
            if not changes:
                continue
            if isinstance(entry["id"], New):  # added by this import: written sealed anew
                for new, row in self.batch.new["timeline_entries"]:
                    if new is entry["id"]:
                        row.update({name: entry[name] for name in changes})
            else:
                self.batch.updates["timeline_entries"][entry["id"]] = entry
            self.batch.event("update", "timeline_entries", entry["id"], case_id, changes)
        for deadline in self.deadlines.get(case_id, []):
            changes = self._reseal(deadline, "deadlines", reference, old_key, key)
            if changes and not isinstance(deadline["id"], New):
                self.batch.updates["deadlines"][deadline["id"]] = deadline
            if changes:
                self.batch.event("update", "deadlines", deadline["id"], case_id, changes)

    def _sync_rule_deadlines(self, case: dict, reference: str, key) -> None:
        """As ``sync_rule_deadlines``: a deadline for each active rule whose date is filled in,
        and an open, unextended one moved with a corrected date."""
        if case["case_type"] not in self.rules:
            self.rules[case["case_type"]] = active_rules(case["case_type"])
        rules = self.rules[case["case_type"]]
        if not rules:
            return
        self.work = self.work or work_calendars()
        work = self.work.for_region(case["region"])
        existing = {d["rule_id"]: d for d in self.deadlines.get(case["id"], []) if d["rule_id"]}
        for rule in rules:
            start = trigger_date(case, rule.trigger)
            if start is None or not rule.applies_on(start):
                continue
            due_on = term_end(start, rule.length, rule.unit, work)
            deadline = existing.get(rule.id)
            if deadline is None:
                self._deadline(
                    case["id"],
                    reference,
                    key,
                    due_on,
                    rule_id=rule.id,
                    title=self._seal(key, rule.name, "deadlines", "title", reference),
                    legal_basis=self._seal(
                        key, rule.legal_basis, "deadlines", "legal_basis", reference
                    ),
                )
            elif (
                deadline["status"] == "open"
                and not deadline["is_extended"]
                and deadline["due_on"] != due_on
            ):
                self.batch.event(
                    "update",
                    "deadlines",
                    deadline["id"],
                    case["id"],
                    {"due_on": change(deadline["due_on"], due_on)},
                )
                deadline["due_on"] = due_on
                if not isinstance(deadline["id"], New):
                    self.batch.updates["deadlines"][deadline["id"]] = deadline

    @staticmethod
    def _seal(key, text, table: str, column: str, reference: str):
        if text is None:
            return None
        if key is None:  # the client's data was erased: as Sealed refuses it
            raise ErasedRecord(column)
        return seal(key, text, f"{table}.{column}.{reference}")

    @staticmethod
    def _open(key, sealed, table: str, column: str, reference: str):
        if key is None:
            return None
        return unseal(key, sealed, f"{table}.{column}.{reference}") if sealed is not None else None

    def run(self) -> Generator[int, None, Batch]:
        for done, row in enumerate(self.plan.rows, start=1):
            if row.action != "unchanged":
                client_id, key = self.client(row)
                if row.action == "create":
                    self.create(row, client_id, key)
                else:
                    self.update(row, client_id, key)
            if done % PROGRESS_EVERY == 0:
                yield done
        return self.batch


PROGRESS_EVERY = 200


def apply_in_bulk(plan, by, timings: dict | None = None) -> Generator[int, None, dict]:
    """Prepare ``plan``'s rows while only reading (yielding how many rows are done every
    ``PROGRESS_EVERY``), then write them in one short transaction of their own, committed
    here; returns the totals. ``timings``, if given, gets the seconds each part took
    ("prepare", "write": the write lock is held only for the latter).

    Raises ``CasesChanged`` (nothing written) when a case to update was saved by someone in
    the meantime, ``OperationalError`` when the write lock cannot be had in time."""
    clock = time.perf_counter()
    db.session.commit()  # what came before (the caller's reads) ends here
    begin_reading()
    acting(by)
    by_id = by.id if by is not None else None
    preparation = _Preparation(plan, by_id)
    batch = yield from preparation.run()
    totals = {
        "created": plan.count("create"),
        "updated": plan.count("update"),
        "unchanged": plan.count("unchanged"),
        "new_clients": len(preparation.new_clients),
    }
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    # Ids first, and every row as it will be written: PostgreSQL's from the sequences; on
    # SQLite the next free ones, taken again (before the write lock) until no one else's
    # insert came in between, and checked once more with the lock held.
    numbered = _take_ids(batch, connection)
    rows = _final_rows(batch, postgres)
    for _attempt in range(3):
        if postgres or _last_ids(batch, connection) == numbered:
            break
        numbered = _take_ids(batch, connection)
        rows = _final_rows(batch, postgres)
    db.session.commit()  # the reading ends before the writing begins
    prepared = time.perf_counter()
    with writing():
        connection = db.session.connection()
        _check_versions(batch, connection, postgres)
        if not postgres and _last_ids(batch, connection) != numbered:
            _take_ids(batch, connection)
            rows = _final_rows(batch, postgres)
        _write(batch, rows, connection, postgres)
        acting(by)
        db.session.execute(
            sa.insert(AuditEvent.__table__).values(
                event_row("import", "cases", None, None, {k: [None, n] for k, n in totals.items()})
            )
        )
    written = time.perf_counter()
    if timings is not None:
        timings.update(prepare=prepared - clock, write=written - prepared)
    return totals


def _last_ids(batch: Batch, connection) -> dict[str, int]:
    """The largest id of each table the import adds rows to (SQLite gives the next ones)."""
    return {
        table: connection.execute(sa.text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar()
        for table, rows in batch.new.items()
        if rows
    }


def _take_ids(batch: Batch, connection) -> dict[str, int] | None:
    """Give every new row its id; on SQLite, the largest ids they follow."""
    postgres = connection.dialect.name == "postgresql"
    last = None if postgres else _last_ids(batch, connection)
    for table, rows in batch.new.items():
        if not rows:
            continue
        if postgres:
            ids = sorted(
                connection.execute(
                    sa.text(
                        "SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                        "FROM generate_series(1, :n)"
                    ),
                    {"t": table, "n": len(rows)},
                ).scalars()
            )
        else:
            ids = range(last[table] + 1, last[table] + 1 + len(rows))
        for (new, _row), new_id in zip(rows, ids, strict=True):
            new.id = new_id
    return last


def _converters(table: str, postgres: bool, now) -> list:
    """For each column of ``table``, how a prepared value becomes the value written."""
    stamp = now if postgres else _sqlite(now)
    converters = []
    for column in db.metadata.tables[table].c:
        if column.name in ("created_at", "updated_at"):
            converters.append(lambda _value, stamp=stamp: stamp)
        elif column.name in ("id", "client_id", "case_id"):
            converters.append(_id)
        elif not postgres and isinstance(column.type, sa.Date | sa.Boolean):
            converters.append(_sqlite)
        else:
            converters.append(None)
    return converters


def _final_rows(batch: Batch, postgres: bool) -> dict[str, tuple[list[str], list[tuple]]]:
    """Each table's columns and rows as tuples, ids filled in, audit changes as JSON text."""
    now = models_base.utcnow()
    out = {}
    for table, rows in batch.new.items():
        columns = list(db.metadata.tables[table].c.keys())
        spec = list(zip(columns, _converters(table, postgres, now), strict=True))
        out[table] = (
            columns,
            [
                tuple(convert(row.get(c)) if convert else row.get(c) for c, convert in spec)
                for _new, row in rows
            ],
        )
    out["client_index"] = (
        ["client_id", "kind", "digest"],
        [
            (
                r["client_id"].id if isinstance(r["client_id"], New) else r["client_id"],
                r["kind"],
                r["digest"],
            )
            for r in batch.index
        ],
    )
    columns = [
        "occurred_at",
        "actor_id",
        "via",
        "action",
        "entity",
        "entity_id",
        "case_id",
        "changes",
    ]
    dumps = json.JSONEncoder(default=_id).encode
    out["audit_events"] = (
        columns,
        [
            (
                e["occurred_at"] if postgres else _sqlite(e["occurred_at"]),
                e["actor_id"],
                e["via"],
                e["action"],
                e["entity"],
                _id(e["entity_id"]),
                _id(e["case_id"]),
                dumps(e["changes"]),
            )
            for e in batch.events
        ],
    )
    return out


def _check_versions(batch: Batch, connection, postgres: bool) -> None:
    """The cases to update are as they were read, else nothing is written."""
    ids = sorted(batch.case_updates)
    table = Case.__table__
    for start in range(0, len(ids), CHUNK):
        query = sa.select(table.c.id, table.c.version).where(
            table.c.id.in_(ids[start : start + CHUNK])
        )
        if postgres:
            query = query.with_for_update(key_share=True)  # notes may still be added
        for case_id, version in connection.execute(query):
            if version != batch.case_updates[case_id]["seen"]:
                raise CasesChanged(
                    _(
                        "Some of the cases were changed while the import was prepared; "
                        "nothing was imported. Import the file again."
                    )
                )


def _sqlite(value):
    """A value as SQLAlchemy stores it in SQLite (the types' own bind processors)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    return value


def _write(batch: Batch, rows: dict, connection, postgres: bool) -> None:
    now = models_base.utcnow()
    for table in (
        "clients",
        "client_index",
        "cases",
        "timeline_entries",
        "deadlines",
        "audit_events",
    ):
        columns, values = rows[table]
        if not values:
            continue
        if postgres:
            raw = connection.connection.driver_connection
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for value in values:
                    copy.write_row(value)
        else:
            marks = ", ".join("?" * len(columns))
            connection.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values
            )
    cases = Case.__table__
    if batch.case_updates:
        fixed = ("id", "reference", "created_at", "created_by_id")
        columns = [c.name for c in cases.c if c.name not in fixed]
        statement = (
            sa.update(cases)
            .where(cases.c.id == sa.bindparam("_id"))
            .values({c: sa.bindparam(f"_{c}") for c in columns})
        )
        connection.execute(
            statement,
            [
                {
                    "_id": i,
                    **{
                        f"_{c}": (now if c == "updated_at" else _id(u["values"][c]))
                        for c in columns
                    },
                }
                for i, u in batch.case_updates.items()
            ],
        )
    for table, names in (
        ("clients", ("citizenship",)),
        ("timeline_entries", SEALED["timeline_entries"]),
        ("deadlines", ("due_on", "title", "legal_basis")),
    ):
        if not batch.updates[table]:
            continue
        target = db.metadata.tables[table]
        statement = (
            sa.update(target)
            .where(target.c.id == sa.bindparam("_id"))
            .values({n: sa.bindparam(f"_{n}") for n in names})
        )
        connection.execute(
            statement,
            [
                {"_id": i, **{f"_{n}": row[n] for n in names}}
                for i, row in batch.updates[table].items()
            ],
        )
