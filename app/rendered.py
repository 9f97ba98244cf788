"""Page bodies remembered per user while nothing they show has changed.

A page's body (the case list, the dashboard) is a function of what the database holds, the
viewer, the language, the day and the query string. It is rendered again only when one of those
changed; the page around it (the viewer's menu, form tokens, messages, alerts) is made for every
request, and access is checked before, as for any page. Each body is remembered under its
viewer's id: nothing rendered for one user is served to another.

"Nothing changed" is the newest audit event (every change to cases, clients, deadlines and
users writes one in its transaction). On SQLite writers take turns, so that is enough. On
PostgreSQL ids are taken at insert, so a slow transaction can commit an older event after a
newer one was seen: the stamp there also names the transactions still running when the newest
event was read, in the same snapshot; when one of them commits, the stamp changes. A body made
from data newer than its key is never served under an older one: the key is read first.

The remembered bodies go with the remembered figures (``forget_figures()`` drops both), in a
store of their own so that browsing never pushes the dashboard's figures out.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from app import dates
from app.audit.queries import _FIGURES, forget_figures
from app.extensions import db

SIZE = 256  # bodies per worker process (a case list's is about 40 kB)


class _Bodies:
    def __init__(self) -> None:
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, render, keep: bool = True) -> tuple[Markup, int]:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        html, status = render()
        value = Markup(html), status
        if not keep:
            return value
        with self.lock:
            self.items[key] = value
            while len(self.items) > SIZE:
                self.items.popitem(last=False)
        return value


# PostgreSQL: the newest event and the transactions still running when it was read (from the
# same snapshot) — a running one may yet commit an older event. Those of other databases on the
# server, while they run, are left out, so that their traffic does not change the stamp.
_RUNNING = sa.text(
    "SELECT (SELECT id FROM audit_events ORDER BY id DESC LIMIT 1), ARRAY("
    " SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x"
    " EXCEPT SELECT backend_xid::text FROM pg_stat_activity"
    "  WHERE datname IS DISTINCT FROM current_database() AND backend_xid IS NOT NULL"
    " ORDER BY 1)"
)


# SQLite: writers take turns (BEGIN IMMEDIATE), so the newest event's id is the newest commit's.
_NEWEST = sa.text("SELECT id FROM audit_events ORDER BY id DESC LIMIT 1")


def committed_stamp() -> tuple:
    """What changes at every commit that changes what a page shows (see above)."""
    return _stamp()[0]


def _stamp() -> tuple[tuple, bool]:
    """The stamp, and whether it is settled: on PostgreSQL, no transaction was running, so it
    is likely to be seen again. A body made while one ran is served but not kept, so that
    passing stamps do not crowd out the rest."""
    if db.session.get_bind().dialect.name == "postgresql":
        newest, running = db.session.execute(_RUNNING).one()
        return (newest, tuple(running)), not running
    # Not the figures' data version (``data_stamp``): that counts only what the figures read,
    # and a page also shows notes, deadlines and people.
    return (db.session.execute(_NEWEST).scalar(),), True


def remembered_body(name: str, render: Callable[[], tuple[str, int]]) -> tuple[Markup, int]:
    """The body ``render()`` makes for this request (HTML, status), made again only when the
    data, the viewer (and their role), the language, the day or the query string changed."""
    figures = current_app.extensions.get(_FIGURES) or forget_figures()
    bodies = figures.__dict__.setdefault("bodies", _Bodies())
    key = (
        name,
        current_user.id,
        current_user.role,
        # Forms in a body carry this session's CSRF token (good for the session's life:
        # WTF_CSRF_TIME_LIMIT is None).
        session.row_id,
        str(get_locale()),
        dates.today(),
        tuple(request.args.items(multi=True)),
        (stamp := _stamp())[0],
    )
    return bodies.get(key, render, keep=stamp[1])
