"""Sessions: a signed cookie for visitors, a revocable row in the database once logged in.

A visitor who has not logged in needs only a CSRF secret, the language they chose and a message
for the next page; those travel in the cookie itself, signed with SECRET_KEY (a changed cookie is
worthless) and HttpOnly, and the database keeps nothing: a scan of the site adds no rows.

Logging in starts a server-side session: from then on the cookie holds one random token and
nothing else, and the session's data (who is logged in, the CSRF secret, messages) lives in
``user_sessions`` under the token's SHA-256. The row is written in the login's own transaction,
with a new CSRF secret, so whatever cookie was planted before login is worthless after it. A
session ends after 30 minutes without a request, 12 hours after it began, at logout, when its
user's password changes or the user is disabled, or when an admin ends it; ended and expired
rows are deleted by ``purge_sessions`` (app/auth/housekeeping.py runs it).
"""

import hashlib
import json
import logging
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import g, request
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import CallbackDict

from app import models_base
from app.auth.models import User, UserSession
from app.database import begin_reading
from app.extensions import db

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# last_seen_at is written at most this often when nothing else changed: fewer writes per page.
TOUCH_EVERY = timedelta(minutes=1)
# All that a visitor's cookie may carry (Flask-WTF's secret, the language, flashed messages).
VISITOR_KEYS = frozenset({"csrf_token", "locale", "_flashes"})
VISITOR_MAX_AGE = int(ABSOLUTE_TIMEOUT.total_seconds())
CSRF_KEY = "csrf_token"

log = logging.getLogger(__name__)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """A request's session: a visitor's (``row_id`` None, kept in the cookie) or a logged-in
    user's (a row). ``failure`` is the database error that kept the session from being read:
    the request is then answered 503 before anything else runs (app/__init__.py)."""

    def __init__(
        self,
        data=None,
        row_id: int | None = None,
        last_seen_at: datetime | None = None,
        failure: Exception | None = None,
    ) -> None:
        def on_update(session):
            session.modified = True

        super().__init__(data or {}, on_update)
        self.row_id = row_id
        self.last_seen_at = last_seen_at
        self.failure = failure
        self.modified = False
        self.token: str | None = None  # a new token to send (after rotate)
        self.expired: list[tuple[int, str]] = []  # rows found idle or too old: end them
        self.sent = self.visitor_data()  # what a visitor's cookie held
        self.user = None  # the session's user as read with it (app/auth/sessions.py)

    @property
    def new(self) -> bool:
        return self.row_id is None

    def visitor_data(self) -> dict:
        return {key: self[key] for key in VISITOR_KEYS if key in self}

    def rotate(self) -> None:
        """Start a logged-in session under a new token, in the current transaction (at login,
        and when the password changes); the caller commits. The old row, if any, ends; the CSRF
        secret is new, so nothing known before survives."""
        now = models_base.utcnow()
        if self.row_id is not None:
            _end_row(self.row_id, "rotated", now)
        self[CSRF_KEY] = secrets.token_hex(20)  # a new secret, as Flask-WTF makes them
        g.pop(CSRF_KEY, None)  # Flask-WTF's token for this request, from the old secret
        user_id = self.get("_user_id")
        self.token = secrets.token_urlsafe(32)
        self.row_id = db.session.execute(
            sa.insert(UserSession)
            .values(
                token_hash=token_hash(self.token),
                user_id=int(user_id) if str(user_id).isdigit() else None,
                data=_dumps(self),
                created_at=now,
                last_seen_at=now,
            )
            .returning(UserSession.id)
        ).scalar_one()
        self.last_seen_at = now
        self.modified = False

    def end(self, reason: str) -> None:
        """End this session now, in the current transaction (the caller commits): its token
        stops working. Anything the rest of the request puts in the session (a flash message)
        goes in a visitor's cookie."""
        if self.row_id is not None:
            _end_row(self.row_id, reason, models_base.utcnow())
        self.row_id, self.token = None, None
        self.clear()
        self.modified = False


def _dumps(session: ServerSession) -> str:
    return json.dumps(dict(session), default=str)


def _end_row(row_id: int, reason: str, now: datetime) -> None:
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.id == row_id, UserSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
    )


def end_sessions(user_id: int, reason: str, except_row: int | None = None) -> int:
    """End every live session of a user (on password change, disabling, or an admin's
    request). Returns how many were ended. The caller commits."""
    query = sa.update(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None)
    )
    if except_row is not None:
        query = query.where(UserSession.id != except_row)
    result = db.session.execute(
        query.values(ended_at=models_base.utcnow(), ended_reason=reason),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def purge_sessions(now: datetime) -> int:
    """Delete the rows of sessions that can no longer be used: ended, idle past the timeout or
    past their 12 hours (and rows of visitors from before visitors had none). Returns how many.
    The caller commits."""
    result = db.session.execute(
        sa.delete(UserSession).where(
            sa.or_(
                UserSession.ended_at.is_not(None),
                UserSession.last_seen_at < now - IDLE_TIMEOUT,
                UserSession.created_at < now - ABSOLUTE_TIMEOUT,
            )
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


# A live session by its token's hash, and its user in the same round trip: the user lands in
# the request's identity map, where Flask-Login's loader finds it (and checks it is enabled)
# without asking again. Built once, so a request only binds the hash; still read on every
# request, so a session ended or a user disabled stops at the next one.
_LIVE_SESSION = (
    sa.select(UserSession, User)
    .outerjoin(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == sa.bindparam("token_hash"), UserSession.ended_at.is_(None))
)


class DatabaseSessionInterface(SessionInterface):
    def _signer(self, app) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(app.secret_key, salt="huquq-visitor")

    def open_session(self, app, request) -> ServerSession:
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie or len(cookie) > 4096:
            return ServerSession()
        if "." in cookie:  # a visitor's signed cookie (a token has no dots)
            return self._open_visitor(app, cookie)
        if len(cookie) > 100:
            return ServerSession()
        return self._open_logged_in(cookie)

    def _open_visitor(self, app, cookie: str) -> ServerSession:
        try:
            data = self._signer(app).loads(cookie, max_age=VISITOR_MAX_AGE)
        except BadSignature:
            return ServerSession()
        data = data if isinstance(data, dict) else {}
        return ServerSession({k: v for k, v in data.items() if k in VISITOR_KEYS})

    def _open_logged_in(self, token: str) -> ServerSession:
        try:
            found = db.session.execute(_LIVE_SESSION, {"token_hash": token_hash(token)}).first()
            row = found[0] if found is not None else None
        except OperationalError as error:  # down, or busy past the timeout: answered 503
            db.session.rollback()
            return ServerSession(failure=error)
        if row is None:
            return ServerSession()
        now = models_base.utcnow()
        if now - row.last_seen_at > IDLE_TIMEOUT or now - row.created_at > ABSOLUTE_TIMEOUT:
            session = ServerSession()
            reason = "idle" if now - row.last_seen_at > IDLE_TIMEOUT else "expired"
            session.expired.append((row.id, reason))
            return session
        session = ServerSession(json.loads(row.data), row_id=row.id, last_seen_at=row.last_seen_at)
        session.user = found[1]  # held for the request: the identity map keeps only weak ones
        return session

    def save_session(self, app, session: ServerSession, response) -> None:
        response.vary.add("Cookie")
        if session.failure is not None or response.status_code == 503:
            return  # the database is busy or down: the page says so, and nothing is added
        # Whatever the view left uncommitted is not kept (as at teardown); what follows are
        # short transactions of their own whose first statement writes, so SQLite takes its
        # lock cleanly even on a GET.
        db.session.rollback()
        if session.row_id is None:
            self._save_visitor(app, session, response)
            return
        if session.token is not None:
            if not self._committed(session.row_id):  # the view's transaction was rolled back
                return
            self._set_cookie(app, response, session.token)
        now = models_base.utcnow()
        if session.modified or now - session.last_seen_at >= TOUCH_EVERY:
            values = {"last_seen_at": now}
            if session.modified:
                user_id = session.get("_user_id")
                values |= {
                    "data": _dumps(session),
                    "user_id": int(user_id) if str(user_id).isdigit() else None,
                }
            self._write(
                sa.update(UserSession).where(UserSession.id == session.row_id).values(**values)
            )

    def _save_visitor(self, app, session: ServerSession, response) -> None:
        now = models_base.utcnow()
        for row_id, reason in session.expired:
            self._write(
                sa.update(UserSession)
                .where(UserSession.id == row_id, UserSession.ended_at.is_(None))
                .values(ended_at=now, ended_reason=reason)
            )
        data = session.visitor_data()
        sent = request.cookies.get(self.get_cookie_name(app))
        if data and (data != session.sent or not sent or "." not in sent):
            self._set_cookie(app, response, self._signer(app).dumps(data))
        elif not data and sent:
            response.delete_cookie(self.get_cookie_name(app), path=self.get_cookie_path(app))

    def _committed(self, row_id: int) -> bool:
        """Whether the row a login wrote was committed (a read: it takes no write lock)."""
        try:
            begin_reading()
            found = db.session.execute(
                sa.select(UserSession.id).where(
                    UserSession.id == row_id, UserSession.ended_at.is_(None)
                )
            ).first()
            return found is not None
        except OperationalError:
            return False
        finally:
            db.session.rollback()

    def _write(self, statement) -> None:
        """A bookkeeping write (last seen, a flashed message, an expired row): when the
        database is busy or down it is dropped — the page has been made — and logged."""
        try:
            db.session.execute(statement)
            db.session.commit()
        except OperationalError as error:
            db.session.rollback()
            log.warning("session not saved: %s", type(error.orig).__name__)

    def _set_cookie(self, app, response, value: str) -> None:
        response.set_cookie(
            self.get_cookie_name(app),
            value,
            httponly=True,
            samesite="Lax",
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app) or request.is_secure,
        )
