"""Uploads kept between a dry run and applying it, sealed: a file of cases names clients and
their passport numbers, so it never lies on disk in clear.

Each upload is sealed (AES-256-GCM) with a fresh data key of its own, bound to its token and to
the uploading user (the additional authenticated data). The data key is wrapped by the master
key, as every client's is (app/crypto.py), and kept only in the uploader's server-side session
row, never beside the file. So the file alone, or the file and the database without the master
key, reads as noise; only the session that uploaded it can open it (another user's session has
no key, and a key copied into it does not open under another user); once the session row is
gone the file cannot be opened by anyone (crypto-shredding), and it is deleted as well: when
applied, replaced by a new upload, cancelled, at logout, and by the housekeeping
(``purge_uploads``: ``flask retention run`` and every few minutes) once its session has ended or
an hour has passed. A changed or damaged file fails its authentication tag and is refused.
"""

import base64
import json
import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from app import models_base
from app.auth.models import UserSession
from app.auth.sessions import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT
from app.crypto import NONCE, VERSION, KeysDoNotOpen, new_data_key, unwrap, wrap
from app.extensions import db

KEEP_FOR = timedelta(hours=1)  # between the dry run and applying it
# A file its session does not name yet (the session is saved after the response) is left
# this long before the housekeeping takes it for abandoned.
GRACE = timedelta(minutes=5)
SESSION_KEY = "import"
SUFFIX = ".sealed"
_NAME = re.compile(r"[0-9a-f]{32}")


class UploadUnreadable(Exception):
    """The kept file does not open: changed or damaged on the server, or not this session's."""


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _path(token: str) -> Path | None:
    return _folder() / (token + SUFFIX) if _NAME.fullmatch(token) else None


def _context(token: str, user_id: int) -> str:
    return f"imports.{token}.user.{user_id}"


def keep_upload(session, user_id: int, data: bytes) -> None:
    """Seal ``data`` and keep it for ``session`` (a logged-in user's), replacing (and erasing)
    any upload it kept before. The caller's session is saved with the response."""
    discard_upload(session)
    token = secrets.token_hex(16)
    context = _context(token, user_id)
    data_key, nonce = new_data_key(), secrets.token_bytes(NONCE)
    sealed = VERSION + nonce + AESGCM(data_key).encrypt(nonce, data, context.encode())
    path = _path(token)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(sealed)
    kept_at = models_base.utcnow()
    os.utime(path, (kept_at.timestamp(), kept_at.timestamp()))  # the app's clock, for the purge
    session[SESSION_KEY] = {
        "token": token,
        "key": base64.b64encode(wrap(data_key, context)).decode(),
        "kept_at": kept_at.isoformat(),
    }


def kept_upload(session, user_id: int) -> bytes | None:
    """The upload ``session`` kept, opened; None when there is none (or it is over an hour
    old, or already gone). Raises UploadUnreadable, after erasing it, when it does not open."""
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict):
        return None
    path = _path(str(kept.get("token", "")))
    kept_at = kept.get("kept_at")
    if path is None or not kept_at or "key" not in kept:
        discard_upload(session)
        return None
    if models_base.utcnow() - datetime.fromisoformat(kept_at) > KEEP_FOR or not path.exists():
        discard_upload(session)
        return None
    sealed = path.read_bytes()
    context = _context(kept["token"], user_id)
    try:
        data_key = unwrap(base64.b64decode(kept["key"]), context)
        if sealed[:1] != VERSION:
            raise UploadUnreadable
        nonce, body = sealed[1 : 1 + NONCE], sealed[1 + NONCE :]
        return AESGCM(data_key).decrypt(nonce, body, context.encode())
    except (KeysDoNotOpen, InvalidTag, ValueError, UploadUnreadable):
        discard_upload(session)
        raise UploadUnreadable from None


def discard_upload(session) -> bool:
    """Erase the upload ``session`` kept, if any; whether there was one."""
    kept = session.pop(SESSION_KEY, None)
    if not isinstance(kept, dict):
        return False
    path = _path(str(kept.get("token", "")))
    if path is not None:
        path.unlink(missing_ok=True)
    return True


def _live_tokens(now: datetime) -> set[str]:
    """The uploads that sessions still usable at ``now`` keep."""
    rows = db.session.execute(
        sa.select(UserSession.data).where(
            UserSession.ended_at.is_(None),
            UserSession.last_seen_at >= now - IDLE_TIMEOUT,
            UserSession.created_at >= now - ABSOLUTE_TIMEOUT,
            UserSession.data.contains(f'"{SESSION_KEY}"'),
        )
    ).scalars()
    tokens = set()
    for data in rows:
        kept = json.loads(data).get(SESSION_KEY)
        if isinstance(kept, dict):
            tokens.add(str(kept.get("token")))
    return tokens


def purge_uploads(now: datetime) -> int:
    """Delete kept uploads over an hour old, those whose session has ended (logged out, idle,
    expired, ended by an admin), and anything else in the folder (a file kept in clear by an
    older version). Returns how many files."""
    live = _live_tokens(now)
    done = 0
    for path in _folder().iterdir():
        if not path.is_file():
            continue
        token = path.name.removesuffix(SUFFIX)
        age = now - datetime.fromtimestamp(path.stat().st_mtime, now.tzinfo)
        well_formed = path.suffix == SUFFIX and _NAME.fullmatch(token) is not None
        if not well_formed or age > KEEP_FOR or (token not in live and age > GRACE):
            path.unlink(missing_ok=True)
            done += 1
    return done
