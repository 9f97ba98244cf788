"""Seal what people type about a case: court or agency, offence article, school and grade,
deadline titles and legal basis (with the client's data key), and calendar notes (with a new
organisation key, wrapped by the master key); the plaintext copies of them already in the
audit trail are sealed too. Possible duplicates for coordinators to check, and duplicate checks
in the audit trail.

The few crypto functions this needs are frozen here (the app's may change; this must not): the
same AES-256-GCM layout as app/crypto.py at this revision. Only the loaded keys come from the
running app (`flask db upgrade`).

Revision ID: 0011
Revises: 0010
Created: 2026-12-01
"""

import base64
import hashlib
import secrets
from functools import lru_cache

import sqlalchemy as sa
from alembic import op
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# table: (column, plaintext type, nullable before); each is sealed bound to table.column.row
CASE_TEXTS = {
    "authority": sa.String(200),
    "offence_article": sa.String(100),
    "school_name": sa.String(200),
    "school_grade": sa.String(40),
}
DEADLINE_TEXTS = {"title": sa.String(200), "legal_basis": sa.Text()}
NOTE = {"note": sa.String(200)}
ORGANISATION_CONTEXT = "organisation_keys.wrapped.1"
SEALED = "sealed:"  # how the audit trail marks a sealed value (app/audit/services.py)
BATCH = 1000

OLD_ACTIONS = "action IN ('export', 'import', 'insert', 'update', 'delete', 'seed')"
NEW_ACTIONS = (
    "action IN ('export', 'import', 'insert', 'update', 'delete', 'seed', 'duplicate_check')"
)

# --- frozen from app/crypto.py -------------------------------------------------------------

VERSION = b"\x01"
NONCE = 12


@lru_cache(maxsize=64)
def _aead(key: bytes) -> AESGCM:
    return AESGCM(key)


def _master() -> bytes:
    return current_app.extensions["huquq_keys"].master


def _key_id(master: bytes) -> bytes:
    return hashlib.sha256(b"huquq key id" + master).digest()[:4]


def _seal(key: bytes, text: str, context: str) -> bytes:
    nonce = secrets.token_bytes(NONCE)
    return VERSION + nonce + _aead(key).encrypt(nonce, text.encode("utf-8"), context.encode())


def _unseal(key: bytes, sealed: bytes, context: str) -> str:
    return (
        _aead(key)
        .decrypt(sealed[1 : 1 + NONCE], sealed[1 + NONCE :], context.encode())
        .decode("utf-8")
    )


def _wrap(data_key: bytes, context: str) -> bytes:
    master = _master()
    nonce = secrets.token_bytes(NONCE)
    return (
        VERSION + _key_id(master) + nonce + _aead(master).encrypt(nonce, data_key, context.encode())
    )


def _unwrap(wrapped: bytes, context: str) -> bytes:
    master = _master()
    if wrapped[1:5] != _key_id(master):
        raise RuntimeError("a data key was wrapped by another master key than the app's")
    return _aead(master).decrypt(wrapped[5 : 5 + NONCE], wrapped[5 + NONCE :], context.encode())


def _client_key(data_key: bytes | None, pseudonym: str) -> bytes | None:
    """A client's data key; None once their data was erased."""
    return _unwrap(bytes(data_key), f"clients.data_key.{pseudonym}") if data_key else None


# --- tables as this migration sees them ----------------------------------------------------

META = sa.MetaData()
CLIENTS = sa.Table(
    "clients",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("pseudonym", sa.String),
    sa.Column("data_key", sa.LargeBinary),
)
CASES_KEYS = sa.Table(
    "cases",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.String),
    sa.Column("client_id", sa.Integer),
)
AUDIT = sa.Table(
    "audit_events",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("entity", sa.String),
    sa.Column("entity_id", sa.Integer),
    sa.Column("case_id", sa.Integer),
    sa.Column("changes", sa.JSON),
)


def _table(name: str, key_columns: tuple, texts: dict, to_sealed: bool) -> sa.Table:
    """The table as it stands mid-way: each text's old value aside (``<column>_old`` in clear
    on the way up, ``<column>_sealed`` on the way down) and its new one under its own name."""
    aside, new = [], []
    for column, plain in texts.items():
        if to_sealed:
            aside.append(sa.Column(f"{column}_old", plain))
            new.append(sa.Column(column, sa.LargeBinary))
        else:
            aside.append(sa.Column(f"{column}_sealed", sa.LargeBinary))
            new.append(sa.Column(column, plain))
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(c, t) for c, t in key_columns),
        *aside,
        *new,
    )


def _batches(connection, query, id_column):
    """``query``'s rows in batches of BATCH, by increasing id (updates in between are safe)."""
    last = None
    while True:
        page = query.order_by(id_column).limit(BATCH)
        if last is not None:
            page = page.where(id_column > last)
        rows = connection.execute(page).mappings().all()
        if not rows:
            return
        yield rows
        last = rows[-1][id_column.name]


def _keys_of_cases(connection, case_ids) -> dict:
    """case id → (reference, the client's data key or None)."""
    query = (
        sa.select(CASES_KEYS.c.id, CASES_KEYS.c.reference, CLIENTS.c.data_key, CLIENTS.c.pseudonym)
        .join(CLIENTS, CLIENTS.c.id == CASES_KEYS.c.client_id)
        .where(CASES_KEYS.c.id.in_(list(case_ids)))
    )
    return {
        row.id: (row.reference, _client_key(row.data_key, row.pseudonym))
        for row in connection.execute(query)
    }


def _organisation_key(connection) -> bytes:
    wrapped = connection.execute(
        sa.text("SELECT wrapped FROM organisation_keys WHERE id = 1")
    ).scalar_one()
    return _unwrap(bytes(wrapped), ORGANISATION_CONTEXT)


# --- the columns ---------------------------------------------------------------------------


def _move_aside(table: str, texts: dict, to_suffix: str, new_type) -> None:
    with op.batch_alter_table(table) as batch:
        for column in texts:
            batch.alter_column(column, new_column_name=f"{column}{to_suffix}")
    with op.batch_alter_table(table) as batch:
        for column, plain_type in texts.items():
            batch.add_column(sa.Column(column, new_type or plain_type))


def _drop(table: str, texts: dict, suffix: str) -> None:
    with op.batch_alter_table(table) as batch:
        for column in texts:
            batch.drop_column(f"{column}{suffix}")


def _convert(connection, table, rows, texts, reference_and_key, to_sealed: bool) -> None:
    """Write each row's texts from the aside columns into the new ones, sealed or opened;
    ``reference_and_key(row)`` gives what the row's texts are bound to and sealed with."""
    updates = []
    for row in rows:
        reference, key = reference_and_key(row)
        values = {"_id": row["id"]}
        for column in texts:
            source = f"{column}_old" if to_sealed else f"{column}_sealed"
            value = row[source]
            if value is None or key is None:  # an erased client's texts stay erased
                values[column] = None
                continue
            context = f"{table.name}.{column}.{reference}"
            values[column] = (
                _seal(key, value, context) if to_sealed else _unseal(key, bytes(value), context)
            )
        updates.append(values)
    if updates:
        statement = (
            table.update()
            .where(table.c.id == sa.bindparam("_id"))
            .values({c: sa.bindparam(c) for c in texts})
        )
        connection.execute(statement, updates)


def _convert_tables(connection, to_sealed: bool) -> None:
    suffix = "_old" if to_sealed else "_sealed"
    cases = _table("cases", (), CASE_TEXTS, to_sealed)
    deadlines = _table("deadlines", (("case_id", sa.Integer),), DEADLINE_TEXTS, to_sealed)
    days = _table("calendar_days", (("day", sa.Date),), NOTE, to_sealed)

    def with_text(table, texts):
        return sa.select(table).where(sa.or_(*(table.c[c + suffix].isnot(None) for c in texts)))

    for rows in _batches(connection, with_text(cases, CASE_TEXTS), cases.c.id):
        keys = _keys_of_cases(connection, {r["id"] for r in rows})
        _convert(connection, cases, rows, CASE_TEXTS, lambda r, k=keys: k[r["id"]], to_sealed)
    for rows in _batches(connection, with_text(deadlines, DEADLINE_TEXTS), deadlines.c.id):
        keys = _keys_of_cases(connection, {r["case_id"] for r in rows})
        _convert(
            connection,
            deadlines,
            rows,
            DEADLINE_TEXTS,
            lambda r, k=keys: k[r["case_id"]],
            to_sealed,
        )
    organisation = _organisation_key(connection)
    for rows in _batches(connection, with_text(days, NOTE), days.c.id):
        _convert(
            connection, days, rows, NOTE, lambda r: (r["day"].isoformat(), organisation), to_sealed
        )


# --- the audit trail's copies --------------------------------------------------------------

AUDITED_TEXTS = {"cases": CASE_TEXTS, "deadlines": DEADLINE_TEXTS, "calendar_days": NOTE}


def _calendar_day_of(connection, event) -> str | None:
    """The day a calendar note was bound to: in the event's own values, else the row's."""
    for value in (event["changes"] or {}).get("day") or ():
        if value:
            return str(value)
    day = connection.execute(
        sa.text("SELECT day FROM calendar_days WHERE id = :id"), {"id": event["entity_id"]}
    ).scalar()
    return str(day) if day is not None else None


def _audit_copies(connection, to_sealed: bool) -> None:
    """Seal (or open again) the copies of these texts that the audit trail already holds.
    A copy whose client was erased cannot be sealed: it is dropped, as erasing would have."""
    organisation = _organisation_key(connection)
    query = sa.select(AUDIT).where(AUDIT.c.entity.in_(list(AUDITED_TEXTS)))
    for rows in _batches(connection, query, AUDIT.c.id):
        case_ids = {r["case_id"] for r in rows if r["case_id"] is not None}
        keys = _keys_of_cases(connection, case_ids) if case_ids else {}
        updates = []
        for event in rows:
            changes = dict(event["changes"] or {})
            fields = [f for f in AUDITED_TEXTS[event["entity"]] if f in changes]
            if not fields:
                continue
            if event["entity"] == "calendar_days":
                day = _calendar_day_of(connection, event)
                key, row = (organisation, day) if day else (None, None)
            else:
                reference, key = keys.get(event["case_id"], (None, None))
                row = reference
            changed = False
            for field in fields:
                context = f"{event['entity']}.{field}.{row}"
                values = [_copy(v, key, context, to_sealed) for v in changes[field]]
                if values != changes[field]:
                    changes[field], changed = values, True
            if changed:
                updates.append({"_id": event["id"], "changes": changes})
        if updates:
            connection.execute(
                AUDIT.update()
                .where(AUDIT.c.id == sa.bindparam("_id"))
                .values(changes=sa.bindparam("changes")),
                updates,
            )


def _copy(value, key: bytes | None, context: str, to_sealed: bool):
    if not isinstance(value, str):
        return value
    return _sealed_copy(value, key, context) if to_sealed else _opened_copy(value, key, context)


def _sealed_copy(value: str, key: bytes | None, context: str) -> str | None:
    if value.startswith(SEALED):
        return value
    if key is None:
        return None
    return SEALED + base64.b64encode(_seal(key, value, context)).decode()


def _opened_copy(value: str, key: bytes | None, context: str) -> str:
    if not value.startswith(SEALED) or key is None:
        return value
    try:
        return _unseal(key, base64.b64decode(value[len(SEALED) :]), context)
    except InvalidTag:  # sealed under a key the case no longer has: left sealed, shown as such
        return value


# --- upgrade and downgrade -----------------------------------------------------------------


def _actions(check: str) -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint(op.f("ck_audit_events_action"), type_="check")
        batch.create_check_constraint(op.f("ck_audit_events_action"), check)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Pages freed as the tables are rebuilt are overwritten, so the texts moved out of them
        # are not left readable in the file (Debian's SQLite does so by default; not every
        # build does).
        op.execute("PRAGMA secure_delete = ON")
    op.create_table(
        "organisation_keys",
        sa.Column("id", sa.Integer()),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_keys")),
    )
    op.bulk_insert(
        sa.table("organisation_keys", sa.column("id"), sa.column("wrapped")),
        [{"id": 1, "wrapped": _wrap(secrets.token_bytes(32), ORGANISATION_CONTEXT)}],
    )
    for table, texts in (
        ("cases", CASE_TEXTS),
        ("deadlines", DEADLINE_TEXTS),
        ("calendar_days", NOTE),
    ):
        _move_aside(table, texts, "_old", sa.LargeBinary())
    connection = op.get_bind()
    _convert_tables(connection, to_sealed=True)
    _audit_copies(connection, to_sealed=True)
    for table, texts in (
        ("cases", CASE_TEXTS),
        ("deadlines", DEADLINE_TEXTS),
        ("calendar_days", NOTE),
    ):
        _drop(table, texts, "_old")

    _actions(NEW_ACTIONS)
    op.create_table(
        "possible_duplicates",
        sa.Column("id", sa.Integer()),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("matched", sa.String(32), nullable=False),
        sa.Column("found_by_id", sa.Integer()),
        sa.Column("checked_at", sa.DateTime(timezone=True)),
        sa.Column("checked_by_id", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("client_id <> other_id", name=op.f("ck_possible_duplicates_two")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_possible_duplicates_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["clients.id"], name=op.f("fk_possible_duplicates_other_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["found_by_id"], ["users.id"], name=op.f("fk_possible_duplicates_found_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["checked_by_id"],
            ["users.id"],
            name=op.f("fk_possible_duplicates_checked_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_possible_duplicates")),
    )
    op.create_index(op.f("ix_possible_duplicates_client_id"), "possible_duplicates", ["client_id"])
    op.create_index(op.f("ix_possible_duplicates_other_id"), "possible_duplicates", ["other_id"])
    op.create_index(
        op.f("ix_possible_duplicates_checked_at"), "possible_duplicates", ["checked_at"]
    )


def downgrade() -> None:
    op.drop_table("possible_duplicates")
    op.execute("DELETE FROM audit_events WHERE action = 'duplicate_check'")
    _actions(OLD_ACTIONS)

    connection = op.get_bind()
    _audit_copies(connection, to_sealed=False)
    for table, texts in (
        ("cases", CASE_TEXTS),
        ("deadlines", DEADLINE_TEXTS),
        ("calendar_days", NOTE),
    ):
        _move_aside(table, texts, "_sealed", None)
    _convert_tables(connection, to_sealed=False)
    for table, texts in (
        ("cases", CASE_TEXTS),
        ("deadlines", DEADLINE_TEXTS),
        ("calendar_days", NOTE),
    ):
        _drop(table, texts, "_sealed")
    # A deadline had a title always; one whose client was erased gets a dash.
    op.execute("UPDATE deadlines SET title = '—' WHERE title IS NULL")
    with op.batch_alter_table("deadlines") as batch:
        batch.alter_column("title", existing_type=sa.String(200), nullable=False)
    op.drop_table("organisation_keys")
