"""Rows made through the same service functions the app uses.

Inside an app context (the ``ctx`` fixture) they join its session and stay attached; otherwise
each call commits in a context of its own and returns a detached, fully loaded object.
"""

import itertools
from contextlib import nullcontext
from datetime import date

from flask import has_app_context

from app.auth.services import create_user
from app.cases.services import close_case, open_case
from app.clients.services import create_client
from app.extensions import db

PASSWORD = "a sturdy test passphrase"
_serial = itertools.count(1)


class Factories:
    def __init__(self, app) -> None:
        self.app = app

    def _save(self, make):
        with nullcontext() if has_app_context() else self.app.app_context():
            obj = make()
            db.session.commit()
            db.session.refresh(obj)
            return obj

    def user(
        self, role: str = "volunteer", email: str | None = None, password: str | None = PASSWORD
    ):
        email = email or f"{role}{next(_serial)}@example.org"
        return self._save(lambda: create_user(email, role, password, by=None))

    def client(self, by=None, **fields):
        data = {"full_name": f"Каримов Шерзод {next(_serial)}", "citizenship": "UZ", **fields}
        return self._save(lambda: create_client(data, by=by))

    def case(
        self,
        client=None,
        by=None,
        outcome: str | None = None,
        closed_on: date | None = None,
        **fields,
    ):
        data = {
            "case_type": "deportation_challenge",
            "opened_on": date(2025, 3, 1),
            "region": "Москва",
            **fields,
        }

        def make():
            owner = db.session.merge(client) if client is not None else None
            owner = owner or create_client(
                {"full_name": f"Рахмонов Далер {next(_serial)}", "citizenship": "TJ"}, by=by
            )
            case = open_case(owner, data, by=by)
            if outcome:
                close_case(case, outcome, closed_on or data["opened_on"], by=by)
            return case

        return self._save(make)
