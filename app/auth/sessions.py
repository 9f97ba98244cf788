"""Server-side sessions that can be revoked.

The cookie holds one random token and nothing else; the session's data (who is logged in, the
CSRF secret, flash messages) lives in ``user_sessions`` under the token's SHA-256. A session
ends after 30 minutes without a request, 12 hours after it began, at logout, when its user's
password changes or the user is disabled, or when an admin ends it. Logging in issues a new
token, so a token planted before login is worthless after it.
"""

import hashlib
import json
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import CallbackDict

from app import models_base
from app.auth.models import UserSession
from app.extensions import db

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# last_seen_at is written at most this often when nothing else changed: fewer writes per page.
TOUCH_EVERY = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, data=None, row_id: int | None = None, last_seen_at=None) -> None:
        def on_update(session):
            session.modified = True

        super().__init__(data or {}, on_update)
        self.row_id = row_id
        self.last_seen_at = last_seen_at
        self.modified = False
        self.to_end: list[tuple[int, str]] = []  # (row, reason) to end when the response goes

    @property
    def new(self) -> bool:
        return self.row_id is None

    def rotate(self) -> None:
        """Keep the data under a new token (at login and password change)."""
        if self.row_id is not None:
            self.to_end.append((self.row_id, "rotated"))
        self.row_id = None
        self.modified = True

    def end(self, reason: str) -> None:
        """End this session: its token stops working. Anything the rest of the request puts in
        the session (a flash message) starts a fresh anonymous one."""
        if self.row_id is not None:
            self.to_end.append((self.row_id, reason))
        self.row_id = None
        self.clear()
        self.modified = False


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


class DatabaseSessionInterface(SessionInterface):
    def open_session(self, app, request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 100:
            return ServerSession()
        try:
            row = db.session.execute(
                sa.select(UserSession).where(
                    UserSession.token_hash == token_hash(token), UserSession.ended_at.is_(None)
                )
            ).scalar_one_or_none()
        except OperationalError:  # the database is down: the view answers 503, not a traceback
            db.session.rollback()
            return ServerSession()
        if row is None:
            return ServerSession()
        session = ServerSession(json.loads(row.data), row_id=row.id, last_seen_at=row.last_seen_at)
        now = models_base.utcnow()
        if now - row.last_seen_at > IDLE_TIMEOUT:
            session.end("idle")
        elif now - row.created_at > ABSOLUTE_TIMEOUT:
            session.end("expired")
        return session

    def save_session(self, app, session: ServerSession, response) -> None:
        try:
            self._save(app, session, response)
        except OperationalError:  # the database is down: the page already says so
            db.session.rollback()

    def _save(self, app, session: ServerSession, response) -> None:
        # Whatever the view left uncommitted is not kept (as at teardown). The session write is
        # a transaction of its own whose first statement writes, so SQLite takes its lock
        # cleanly even on a GET.
        db.session.rollback()
        now = models_base.utcnow()
        wrote = False
        for row_id, reason in session.to_end:
            db.session.execute(
                sa.update(UserSession)
                .where(UserSession.id == row_id, UserSession.ended_at.is_(None))
                .values(ended_at=now, ended_reason=reason)
            )
            wrote = True
        data = json.dumps(dict(session), default=str)
        user_id = session.get("_user_id")
        user_id = int(user_id) if str(user_id).isdigit() else None
        if session.new and session.modified and session:
            token = secrets.token_urlsafe(32)
            db.session.execute(
                sa.insert(UserSession).values(
                    token_hash=token_hash(token),
                    user_id=user_id,
                    data=data,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            wrote = True
            response.set_cookie(
                self.get_cookie_name(app),
                token,
                httponly=True,
                samesite="Lax",
                path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app) or request.is_secure,
            )
        elif session.new and session.to_end:
            response.delete_cookie(self.get_cookie_name(app), path=self.get_cookie_path(app))
        elif not session.new and (session.modified or now - session.last_seen_at >= TOUCH_EVERY):
            values = {"last_seen_at": now}
            if session.modified:
                values |= {"data": data, "user_id": user_id}
            db.session.execute(
                sa.update(UserSession).where(UserSession.id == session.row_id).values(**values)
            )
            wrote = True
        if wrote:
            db.session.commit()
        response.vary.add("Cookie")
