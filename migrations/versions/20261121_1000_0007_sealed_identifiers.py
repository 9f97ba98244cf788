"""Seal what identifies people: clients' names, contacts, document numbers, dates of birth and
notes, case summaries and timeline texts; a keyed-hash index for search; the key check; the
retention setting.

Existing rows are sealed in place with the app's keys (so this migration runs through the app,
as `flask db upgrade` does).

Revision ID: 0007
Revises: 0006
Created: 2026-11-21
"""

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import date

import sqlalchemy as sa
from alembic import op
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

# Sealing needs the app's keys (at run time) and the functions below, frozen here.

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CLIENT_TEXTS = ("full_name", "phone", "messenger", "born_on", "notes")


def _tables():
    meta = sa.MetaData()
    return (
        sa.Table(
            "clients",
            meta,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("pseudonym", sa.String),
            sa.Column("data_key", sa.LargeBinary),
            *(sa.Column(f"{c}_old", sa.Text) for c in CLIENT_TEXTS),
            *(sa.Column(c, sa.LargeBinary) for c in CLIENT_TEXTS),
        ),
        sa.Table(
            "cases",
            meta,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("reference", sa.String),
            sa.Column("client_id", sa.Integer),
            sa.Column("summary_old", sa.Text),
            sa.Column("summary", sa.LargeBinary),
        ),
        sa.Table(
            "timeline_entries",
            meta,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("case_id", sa.Integer),
            sa.Column("body_old", sa.Text),
            sa.Column("body", sa.LargeBinary),
        ),
        sa.Table(
            "client_index",
            meta,
            sa.Column("client_id", sa.Integer),
            sa.Column("kind", sa.String),
            sa.Column("digest", sa.LargeBinary),
        ),
    )


def _move_aside(table: str, columns) -> None:
    """Rename the plaintext columns to *_old and add sealed ones under the old names."""
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.alter_column(column, new_column_name=f"{column}_old")
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.add_column(sa.Column(column, sa.LargeBinary()))


def _drop_old(table: str, columns) -> None:
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.drop_column(f"{column}_old")


# --- Frozen from app/crypto.py and app/clients/matching.py as they were when this migration was
# written, so that a later change to the app cannot change what it does. Only the keys come
# from the running app (the Keys object it loaded: master, index, key_id).
VERSION = b"\x01"
NONCE = 12
CHECK_TEXT = b"huquq key check"


class FrozenKeyError(RuntimeError):
    """A value that does not open with these keys."""


def keys():
    return current_app.extensions["huquq_keys"]


def seal(key: bytes, plaintext: str | None, context: str) -> bytes | None:
    if plaintext is None:
        return None
    nonce = secrets.token_bytes(NONCE)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), context.encode())


def unseal(key: bytes, sealed: bytes | None, context: str) -> str | None:
    if sealed is None:
        return None
    return _opened(AESGCM(key), sealed, 1, context).decode()


def _opened(aead: AESGCM, sealed: bytes, header: int, context: str) -> bytes:
    if sealed[0] != VERSION[0]:
        raise FrozenKeyError("unknown ciphertext version")
    try:
        return aead.decrypt(
            sealed[header : header + NONCE], sealed[header + NONCE :], context.encode()
        )
    except InvalidTag:
        raise FrozenKeyError(f"{context}: cannot be decrypted with this key") from None


def wrap(data_key: bytes, context: str, ring=None) -> bytes:
    ring = ring or keys()
    nonce = secrets.token_bytes(NONCE)
    return (
        VERSION
        + ring.key_id
        + nonce
        + AESGCM(ring.master).encrypt(nonce, data_key, context.encode())
    )


def unwrap(wrapped: bytes, context: str, ring=None) -> bytes:
    ring = ring or keys()
    if wrapped[1:5] != ring.key_id:
        raise FrozenKeyError("this data key was wrapped by another master key")
    return _opened(AESGCM(ring.master), wrapped, 5, context)


def blind(kind: str, token: str, ring=None) -> bytes:
    ring = ring or keys()
    return hmac.new(ring.index, f"{kind}:{token}".encode(), hashlib.sha256).digest()[:16]


def check_value(ring) -> tuple[bytes, bytes]:
    return wrap(CHECK_TEXT, "key_check", ring), blind("check", "huquq", ring)


def new_data_key() -> bytes:
    return secrets.token_bytes(32)


CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "j",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "h",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "sh",
    "ъ": "",
    "ы": "i",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    # Uzbek, Tajik, Kyrgyz, Kazakh letters
    "ғ": "g",
    "қ": "k",
    "ҳ": "h",
    "ў": "u",
    "ӯ": "u",
    "ӣ": "i",
    "ҷ": "j",
    "ң": "n",
    "ү": "u",
    "ө": "o",
    "ә": "a",
    "һ": "h",
    "і": "i",
    "ұ": "u",
}
# Latin spellings of the same sounds, longest first.
LATIN = [
    ("dzh", "j"),
    ("kh", "h"),
    ("zh", "j"),
    ("dj", "j"),
    ("gh", "g"),
    ("sch", "sh"),
    ("x", "h"),
    ("q", "k"),
    ("w", "v"),
    ("c", "k"),
    ("y", ""),
]
_APOSTROPHES = re.compile(r"[\'’ʻʼ`´]")
_TO_LATIN = str.maketrans(CYRILLIC)
_NOT_LATIN = re.compile(r"[^a-z0-9]+")
_DOUBLED = re.compile(r"([a-z])\1+")
_WORDS = re.compile(r"[\s,.;/-]+")


def skeleton(word: str) -> str:
    """The spelling-independent form of one word of a name."""
    text = unicodedata.normalize("NFKC", word).casefold().translate(_TO_LATIN)
    text = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text))
    text = _NOT_LATIN.sub("", text)
    for latin, sound in LATIN:
        text = text.replace(latin, sound)
    return _DOUBLED.sub(r"\1", text)  # doubled letters: Abdullaev = Abdulaev


def name_tokens(name: str) -> list[str]:
    """The skeletons of a name's words (two letters or more), each once."""
    tokens = []
    for word in _WORDS.split(name):
        token = skeleton(word)
        if (len(token) >= 2 or token.isdigit()) and token not in tokens:
            tokens.append(token)
    return tokens


def same_name_key(name: str) -> str:
    """Two written names are the same person's when this is equal: the same words in any
    spelling and order (a name with no letters at all is compared as written)."""
    return " ".join(sorted(name_tokens(name))) or " ".join(name.casefold().split())


def phone_tokens(phone: str) -> list[str]:
    """The number's digits, and its last nine (how it is often written without the country
    code)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 5:
        return []
    return list(dict.fromkeys([digits, digits[-9:]]))


def document_token(number: str) -> str | None:
    """A passport or document number, letters and digits only, in capitals."""
    token = re.sub(r"[^0-9A-Za-zА-Яа-яЁё]", "", number).upper()
    return token or None


def search_digests(
    full_name: str | None, phone: str | None, document: str | None, keys=None
) -> list:
    """(kind, digest) pairs a client is found by: each name word, the whole name (words in any
    order), the phone, the document number. ``keys``: other keys than the app's (rotation)."""
    pairs = []
    if full_name:
        pairs += [("name", blind("name", t, keys)) for t in name_tokens(full_name)]
        pairs.append(("fullname", blind("fullname", same_name_key(full_name), keys)))
    if phone:
        pairs += [("phone", blind("phone", t, keys)) for t in phone_tokens(phone)]
    if document and (token := document_token(document)):
        pairs.append(("doc", blind("doc", token, keys)))
    return pairs


def upgrade() -> None:
    op.create_table(
        "client_index",
        sa.Column("id", sa.Integer()),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("digest", sa.LargeBinary(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_client_index_client_id_clients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_index")),
    )
    op.create_index(op.f("ix_client_index_client_id"), "client_index", ["client_id"])
    op.create_index(op.f("ix_client_index_digest_kind"), "client_index", ["digest", "kind"])
    op.create_table(
        "key_check",
        sa.Column("id", sa.Integer()),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("index_digest", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_check")),
    )
    sealed_check, index_check = check_value(keys())
    op.bulk_insert(
        sa.table("key_check", sa.column("id"), sa.column("sealed"), sa.column("index_digest")),
        [{"id": 1, "sealed": sealed_check, "index_digest": index_check}],
    )
    op.create_table(
        "settings",
        sa.Column("id", sa.Integer()),
        sa.Column("retention_days", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
    )

    with op.batch_alter_table("clients") as batch:
        batch.drop_index("ix_clients_name_folded")
        batch.drop_column("name_folded")
        batch.add_column(sa.Column("data_key", sa.LargeBinary()))
        batch.add_column(sa.Column("document_number", sa.LargeBinary()))
        batch.add_column(sa.Column("safe_contact", sa.LargeBinary()))
        batch.add_column(sa.Column("erased_on", sa.Date()))
    _move_aside("clients", CLIENT_TEXTS)
    _move_aside("cases", ("summary",))
    _move_aside("timeline_entries", ("body",))

    clients, cases, entries, index = _tables()
    connection = op.get_bind()
    keys_of: dict[int, tuple[bytes, str]] = {}
    for row in connection.execute(sa.select(clients)).mappings():
        key = new_data_key()
        keys_of[row["id"]] = (key, row["pseudonym"])
        values = {"data_key": wrap(key, f"clients.data_key.{row['pseudonym']}")}
        for column in CLIENT_TEXTS:
            plain = row[f"{column}_old"]
            if plain is not None:
                plain = plain.isoformat() if isinstance(plain, date) else str(plain)
                values[column] = seal(key, plain, f"clients.{column}.{row['pseudonym']}")
        connection.execute(clients.update().where(clients.c.id == row["id"]).values(**values))
        pairs = search_digests(row["full_name_old"], row["phone_old"], None)
        if pairs:
            connection.execute(
                index.insert(),
                [
                    {"client_id": row["id"], "kind": kind, "digest": digest}
                    for kind, digest in pairs
                ],
            )
    reference_of = {}
    for row in connection.execute(sa.select(cases)).mappings():
        reference_of[row["id"]] = (row["reference"], row["client_id"])
        if row["summary_old"] is not None:
            key = keys_of[row["client_id"]][0]
            sealed = seal(key, row["summary_old"], f"cases.summary.{row['reference']}")
            connection.execute(cases.update().where(cases.c.id == row["id"]).values(summary=sealed))
    for row in connection.execute(
        sa.select(entries).where(entries.c.body_old.isnot(None))
    ).mappings():
        reference, client_id = reference_of[row["case_id"]]
        sealed = seal(keys_of[client_id][0], row["body_old"], f"timeline_entries.body.{reference}")
        connection.execute(entries.update().where(entries.c.id == row["id"]).values(body=sealed))

    _drop_old("clients", CLIENT_TEXTS)
    _drop_old("cases", ("summary",))
    _drop_old("timeline_entries", ("body",))


def downgrade() -> None:
    meta = sa.MetaData()
    clients = sa.Table(
        "clients",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("pseudonym", sa.String),
        sa.Column("data_key", sa.LargeBinary),
        *(sa.Column(c, sa.LargeBinary) for c in CLIENT_TEXTS),
        *(sa.Column(f"{c}_plain", sa.Text) for c in CLIENT_TEXTS),
        sa.Column("name_folded", sa.String),
    )
    cases = sa.Table(
        "cases",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String),
        sa.Column("client_id", sa.Integer),
        sa.Column("summary", sa.LargeBinary),
        sa.Column("summary_plain", sa.Text),
    )
    entries = sa.Table(
        "timeline_entries",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer),
        sa.Column("body", sa.LargeBinary),
        sa.Column("body_plain", sa.Text),
    )
    with op.batch_alter_table("clients") as batch:
        for column in CLIENT_TEXTS:
            batch.add_column(sa.Column(f"{column}_plain", sa.Text()))
        batch.add_column(sa.Column("name_folded", sa.String(200)))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("summary_plain", sa.Text()))
    with op.batch_alter_table("timeline_entries") as batch:
        batch.add_column(sa.Column("body_plain", sa.Text()))

    connection = op.get_bind()
    keys_of = {}
    for row in connection.execute(sa.select(clients)).mappings():
        key = (
            unwrap(row["data_key"], f"clients.data_key.{row['pseudonym']}")
            if row["data_key"]
            else None
        )
        keys_of[row["id"]] = key
        plain = {
            f"{c}_plain": unseal(key, row[c], f"clients.{c}.{row['pseudonym']}") if key else None
            for c in CLIENT_TEXTS
        }
        name = plain["full_name_plain"] or "—"
        plain["full_name_plain"] = name
        plain["name_folded"] = " ".join(name.casefold().replace("ё", "е").split())
        connection.execute(clients.update().where(clients.c.id == row["id"]).values(**plain))
    reference_of = {}
    for row in connection.execute(sa.select(cases)).mappings():
        reference_of[row["id"]] = (row["reference"], row["client_id"])
        key = keys_of.get(row["client_id"])
        if row["summary"] is not None and key:
            text = unseal(key, row["summary"], f"cases.summary.{row['reference']}")
            connection.execute(
                cases.update().where(cases.c.id == row["id"]).values(summary_plain=text)
            )
    for row in connection.execute(sa.select(entries).where(entries.c.body.isnot(None))).mappings():
        reference, client_id = reference_of[row["case_id"]]
        key = keys_of.get(client_id)
        if key:
            text = unseal(key, row["body"], f"timeline_entries.body.{reference}")
            connection.execute(
                entries.update().where(entries.c.id == row["id"]).values(body_plain=text)
            )

    for table, column in (("timeline_entries", "body"), ("cases", "summary")):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
        with op.batch_alter_table(table) as batch:
            batch.alter_column(f"{column}_plain", new_column_name=column)
    with op.batch_alter_table("clients") as batch:
        for column in CLIENT_TEXTS:
            batch.drop_column(column)
    with op.batch_alter_table("clients") as batch:
        for column in CLIENT_TEXTS:
            batch.alter_column(f"{column}_plain", new_column_name=column)
        batch.drop_column("erased_on")
        batch.drop_column("safe_contact")
        batch.drop_column("document_number")
        batch.drop_column("data_key")
    with op.batch_alter_table("clients") as batch:
        batch.alter_column(
            "full_name", existing_type=sa.Text(), type_=sa.String(200), nullable=False
        )
        batch.alter_column("name_folded", existing_type=sa.String(200), nullable=False)
        batch.alter_column("phone", existing_type=sa.Text(), type_=sa.String(40))
        batch.alter_column("messenger", existing_type=sa.Text(), type_=sa.String(200))
        batch.alter_column(
            "born_on", existing_type=sa.Text(), type_=sa.Date(), postgresql_using="born_on::date"
        )
        batch.create_index("ix_clients_name_folded", ["name_folded"])
    op.drop_table("settings")
    op.drop_table("key_check")
    op.drop_table("client_index")
