"""Throwing away what can no longer be used: ended and expired sessions, wrong passwords too old
to count, files checked for import and never applied; and the chores other areas register with
``also_tidy`` (the deadlines area counts open deadlines again when the calendar library
changed). Run by ``flask retention run`` and, at most every ``HOUSEKEEPING_EVERY`` seconds per
worker (5 minutes), after a response has been sent (so nobody waits for it)."""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, Response, current_app
from sqlalchemy.exc import OperationalError

from app import models_base
from app.auth.services import forget_old_failures
from app.auth.sessions import purge_sessions
from app.extensions import db
from app.uploads import purge_uploads

log = logging.getLogger(__name__)


_CHORES = "huquq.chores"


def also_tidy(app: Flask, name: str, chore: Callable[[datetime], int]) -> None:
    """Have housekeeping run ``chore(now)`` too (a higher area's, so that this one need not
    import it); what it returns is reported under ``name``."""
    app.extensions.setdefault(_CHORES, {})[name] = chore


def tidy(now: datetime) -> dict[str, int]:
    """Delete ended and expired sessions, failures older than a day, and import uploads kept
    over an hour or by a session that has ended, then run the registered chores; how many of
    each. The caller commits."""
    done = {
        "import uploads": purge_uploads(now),
        "sessions": purge_sessions(now),
        "login failures": forget_old_failures(now),
    }
    for name, chore in current_app.extensions.get(_CHORES, {}).items():
        done[name] = chore(now)
    return done


class _Schedule:
    """When this worker last tidied; one thread at a time claims the next turn."""

    def __init__(self, every: timedelta) -> None:
        self.lock = threading.Lock()
        self.every = every
        self.last: datetime | None = None

    def claim(self, now: datetime) -> bool:
        with self.lock:
            if self.last is not None and now - self.last < self.every:
                return False
            self.last = now
            return True


_SCHEDULE = "huquq.housekeeping"


def after_response_when_due(response: Response) -> Response:
    """after_request: when this worker has not tidied for ``HOUSEKEEPING_EVERY`` seconds, tidy
    once the response is sent, in an app context and a transaction of its own. (None: never;
    the tests call it when they mean to.)"""
    every = current_app.config["HOUSEKEEPING_EVERY"]
    if every is None:
        return response
    schedule = current_app.extensions.setdefault(_SCHEDULE, _Schedule(timedelta(seconds=every)))
    if schedule.claim(models_base.utcnow()):
        app = current_app._get_current_object()
        response.call_on_close(lambda: _tidy_in(app))
    return response


def _tidy_in(app: Flask) -> None:
    with app.app_context():
        try:
            done = tidy(models_base.utcnow())
            db.session.commit()
        except OperationalError as error:  # busy or down: the next turn will do it
            db.session.rollback()
            log.warning("housekeeping skipped: %s", type(error.orig).__name__)
            return
        if any(done.values()):
            log.info("housekeeping: deleted %s", done)
