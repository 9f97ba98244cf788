"""Encryption of the data that identifies people, so that a seized database is not a list of
migrants.

Envelope encryption: every client has a data key of their own (``clients.data_key``), stored
wrapped by the master key; their identifying fields — and the texts of their cases that may
name them — are sealed with it using AES-256-GCM, bound to table, column and row (the
additional authenticated data), so a ciphertext moved to another row or column does not open.
Erasing a client's data key makes everything sealed with it unreadable at once, copies in the
audit trail included (crypto-shredding).

Search works through keyed hashes (HMAC-SHA-256 with a separate index key) of normalised values:
exact matches only, and the database holds nothing a guess can be checked against without the
index key. The keys live outside the database: environment variables or a key file.
"""

import base64
import hashlib
import hmac
import json
import logging
import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, g, has_app_context
from sqlalchemy.orm import object_session

from app.errors import ErasedRecord
from app.extensions import db
from app.files import private_file

log = logging.getLogger(__name__)
VERSION = b"\x01"
NONCE = 12
CHECK_TEXT = b"huquq key check"
# The organisation's own data key, for typed text that belongs to no client (calendar notes):
# one row, wrapped by the master key like a client's (app.security.models.OrganisationKey).
ORGANISATION_KEY_CONTEXT = "organisation_keys.wrapped.1"


class KeyError_(RuntimeError):
    """The keys cannot open this database: wrong key file, wrong environment, or damage."""


@dataclass(frozen=True)
class Keys:
    master: bytes
    index: bytes

    @property
    def key_id(self) -> bytes:
        """Four bytes that tell which master key wrapped a data key."""
        return hashlib.sha256(b"huquq key id" + self.master).digest()[:4]

    @classmethod
    def generate(cls) -> "Keys":
        return cls(secrets.token_bytes(32), secrets.token_bytes(32))

    def to_json(self) -> str:
        encode = lambda b: base64.urlsafe_b64encode(b).decode()  # noqa: E731
        return json.dumps({"master": encode(self.master), "index": encode(self.index)}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Keys":
        data = json.loads(text)
        return cls(
            base64.urlsafe_b64decode(data["master"]), base64.urlsafe_b64decode(data["index"])
        )


def write_key_file(path: Path, keys: Keys) -> None:
    """Owner-only, written whole or not at all."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with private_file(path) as partial:
        partial.write_text(keys.to_json())


def load_keys(config) -> Keys:
    """From HUQUQ_MASTER_KEY and HUQUQ_INDEX_KEY, else the key file (made on first run)."""
    master, index = config.get("HUQUQ_MASTER_KEY"), config.get("HUQUQ_INDEX_KEY")
    if master and index:
        return Keys(base64.urlsafe_b64decode(master), base64.urlsafe_b64decode(index))
    path = Path(config["HUQUQ_KEY_FILE"])
    if path.exists():
        return Keys.from_json(path.read_text())
    keys = Keys.generate()
    write_key_file(path, keys)
    log.warning(
        "Generated new encryption keys in %s. Whoever has this file and the database can read "
        "every client's name: for real protection keep it on separate storage (e.g. a USB stick "
        "kept apart from the laptop) and set HUQUQ_KEY_FILE, or pass the keys in "
        "HUQUQ_MASTER_KEY and HUQUQ_INDEX_KEY.",
        path,
    )
    return keys


def keys() -> Keys:
    return current_app.extensions["huquq_keys"]


@lru_cache(maxsize=4096)
def _aead(key: bytes) -> AESGCM:
    """The cipher for a key, made once: an export meets the same client's key row after row."""
    return AESGCM(key)


def seal(key: bytes, plaintext: str | None, context: str) -> bytes | None:
    """AES-256-GCM; ``context`` (table.column.row) is authenticated, not stored."""
    if plaintext is None:
        return None
    nonce = secrets.token_bytes(NONCE)
    return VERSION + nonce + _aead(key).encrypt(nonce, plaintext.encode("utf-8"), context.encode())


def unseal(key: bytes, sealed: bytes | None, context: str) -> str | None:
    if sealed is None:
        return None
    return _opened(_aead(key), sealed, 1, context).decode()


def _opened(aead: AESGCM, sealed: bytes, header: int, context: str) -> bytes:
    """The plaintext of ``sealed``: a version byte and ``header - 1`` more bytes, then the
    nonce, then the ciphertext with its tag."""
    if sealed[0] != VERSION[0]:
        raise KeyError_("unknown ciphertext version")
    try:
        return aead.decrypt(
            sealed[header : header + NONCE], sealed[header + NONCE :], context.encode()
        )
    except InvalidTag:
        raise KeyError_(f"{context}: cannot be decrypted with this key") from None


def wrap(data_key: bytes, context: str, ring: Keys | None = None) -> bytes:
    ring = ring or keys()
    nonce = secrets.token_bytes(NONCE)
    return (
        VERSION
        + ring.key_id
        + nonce
        + _aead(ring.master).encrypt(nonce, data_key, context.encode())
    )


def unwrap(wrapped: bytes, context: str, ring: Keys | None = None) -> bytes:
    ring = ring or keys()
    return _unwrapped(_aead(ring.master), ring.key_id, wrapped, context)


def _unwrapped(master: AESGCM, key_id: bytes, wrapped: bytes, context: str) -> bytes:
    """The data key in ``wrapped``, given the master key's cipher and id."""
    if wrapped[1:5] != key_id:
        raise KeyError_("this data key was wrapped by another master key")
    return _opened(master, wrapped, 5, context)


class Opener:
    """Opens the sealed values of many rows in a row (an export): the master key's cipher is
    made once, and a client's key is unwrapped once for a run of that client's values.
    Nothing is cached beyond the last client, so a long export neither grows nor keeps keys."""

    def __init__(self, ring: Keys | None = None) -> None:
        ring = ring or keys()
        self._master, self._key_id = _aead(ring.master), ring.key_id
        self._wrapped, self._cipher = None, None

    def text(
        self, wrapped: bytes | None, pseudonym: str, sealed: bytes | None, context: str
    ) -> str | None:
        """The plaintext of ``sealed``, sealed with the data key ``wrapped`` of the client
        ``pseudonym``; None for no value, or once the client's data was erased (no key)."""
        if wrapped is None or sealed is None:
            return None
        if wrapped != self._wrapped:
            context_of_key = seal_context("clients", "data_key", pseudonym)
            key = _unwrapped(self._master, self._key_id, wrapped, context_of_key)
            self._wrapped, self._cipher = wrapped, AESGCM(key)
        return _opened(self._cipher, sealed, 1, context).decode()


def seal_context(table: str, column: str, row: str) -> str:
    """The encryption context (AES-GCM's associated data) of a sealed value: its table, column
    and row (a reference, pseudonym or day), so that a ciphertext copied to another row or
    column does not open. Every sealed value, and every wrapped client key, uses this one."""
    return f"{table}.{column}.{row}"


def organisation_key() -> bytes:
    """The organisation's data key, unwrapped once per request or command."""
    if "huquq_organisation_key" not in g:
        table = sa.table("organisation_keys", sa.column("id"), sa.column("wrapped"))
        wrapped = db.session.execute(sa.select(table.c.wrapped).where(table.c.id == 1)).scalar_one()
        g.huquq_organisation_key = unwrap(wrapped, ORGANISATION_KEY_CONTEXT)
    return g.huquq_organisation_key


def blind(kind: str, token: str, ring: Keys | None = None) -> bytes:
    """A keyed hash of a normalised value, for exact search (16 bytes are plenty here)."""
    ring = ring or keys()
    return hmac.new(ring.index, f"{kind}:{token}".encode(), hashlib.sha256).digest()[:16]


def check_value(ring: Keys) -> tuple[bytes, bytes]:
    """What the database keeps to tell, at start, that these are its keys."""
    return wrap(CHECK_TEXT, "key_check", ring), blind("check", "huquq", ring)


def verify(ring: Keys, sealed_check: bytes, index_check: bytes) -> None:
    if unwrap(sealed_check, "key_check", ring) != CHECK_TEXT:
        raise KeyError_("the master key does not match this database")
    if not hmac.compare_digest(blind("check", "huquq", ring), index_check):
        raise KeyError_("the index key does not match this database")


class Sealed:
    """A model attribute kept encrypted in the column ``column_attr``.

    The model provides ``sealing_key()`` (the data key of the client the row belongs to; None
    once erased) and ``seal_context(name)`` (table.column.row). Reading gives the plaintext (or
    None); writing seals it. ``kind`` is ``str`` or ``date``.
    """

    def __init__(self, column_attr: str, kind=str) -> None:
        self.column_attr, self.kind = column_attr, kind

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        with _no_autoflush(obj):
            sealed = getattr(obj, self.column_attr)
            key = obj.sealing_key() if sealed is not None else None
            if key is None:
                return None
            text = unseal(key, sealed, obj.seal_context(self.name))
        return self.kind.fromisoformat(text) if self.kind is not str else text

    def __set__(self, obj, value) -> None:
        if value == self.__get__(obj):
            return  # the same text sealed anew would read as a change in the audit trail
        if value is not None and self.kind is not str:
            value = value.isoformat()
        with _no_autoflush(obj):
            key = obj.sealing_key()
            if key is None and value is not None:
                raise ErasedRecord(self.name)
            sealed = seal(key, value, obj.seal_context(self.name)) if value is not None else None
        setattr(obj, self.column_attr, sealed)


def _no_autoflush(obj):
    """Reading the key may load the client; that load must not flush half-made changes (one
    edit would then be audited as two)."""
    session = object_session(obj)
    if session is None and has_app_context():  # a new row: its case or client may be loaded
        session = db.session()
    return session.no_autoflush if session is not None else nullcontext()


def new_data_key() -> bytes:
    return secrets.token_bytes(32)
