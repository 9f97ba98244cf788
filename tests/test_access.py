"""Who may use what, walked over the app's own URL map so no route is forgotten: every role
against every route, with a case (and client) of their own and one of someone else's."""

import re
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from app.access import EVERYONE
from app.audit.services import acting
from app.auth.models import User
from app.clients.models import PossibleDuplicate
from app.clients.services import create_client
from app.deadlines.models import CalendarDay, Deadline
from app.deadlines.services import renew_calendar_link
from app.extensions import db
from tests.helpers import csrf_field, login

# Routes whose allowed answer is not the plain 200 (GET) or 302/422 (POST with an empty form).
ALLOWED_ANSWER = {
    ("cases.index", "GET"): 302,  # home redirects to the case list
    ("auth.login", "GET"): 302,  # a logged-in user is sent on
    ("auth.setup", "GET"): 404,  # the first-run page is gone once a user exists
}


@dataclass
class World:
    users: dict
    own: dict  # converter argument → value that belongs to the volunteer
    other: dict  # … and that belongs to someone else


@pytest.fixture
def world(app, make) -> World:
    volunteer, colleague = make.user("volunteer"), make.user("volunteer")
    coordinator, admin = make.user("coordinator"), make.user("admin")
    # Both cases get a deadline from the appeal rule (the ruling's copy date is set).
    received = {"ruling_received_on": date(2025, 3, 3)}
    own = make.case(by=coordinator, assigned_to_id=volunteer.id, **received)
    other = make.case(by=coordinator, assigned_to_id=colleague.id, **received)
    own_client = make.client(by=volunteer)
    other_client = make.client(by=colleague)
    with app.app_context():
        deadline = {
            c: db.session.execute(sa.select(Deadline.id).where(Deadline.case_id == c)).scalar()
            for c in (own.id, other.id)
        }
        # The calendar table holds an admin's corrections only: make a few to act on.
        acting(None)
        for day, working in [(date(2031, 6, 13), False), (date(2031, 6, 21), True)]:
            db.session.add(CalendarDay(day=day, is_working=working, note="перенос"))
        db.session.flush()
        first_days = (
            db.session.execute(sa.select(CalendarDay.id).order_by(CalendarDay.id).limit(2))
            .scalars()
            .all()
        )
        token = renew_calendar_link(db.session.get(User, volunteer.id), by=None)
        duplicate = create_client(
            {"full_name": "Каримов Шерзод", "citizenship": "UZ"},
            by=None,
            possible_duplicates={other_client.id: ["name"]},
        )
        flag_id = db.session.execute(
            sa.select(PossibleDuplicate.id).where(PossibleDuplicate.client_id == duplicate.id)
        ).scalar_one()
        db.session.commit()
    shared = {
        "user_id": colleague.id,
        "filename": "app.css",
        "benchmark_id": 1,
        "rule_id": 1,
        "token": token,
        "flag_id": flag_id,
    }
    return World(
        users={"volunteer": volunteer, "coordinator": coordinator, "admin": admin},
        own={
            "reference": own.reference,
            "pseudonym": own_client.pseudonym,
            "deadline_id": deadline[own.id],
            "day_id": first_days[0],
            **shared,
        },
        other={
            "reference": other.reference,
            "pseudonym": other_client.pseudonym,
            "deadline_id": deadline[other.id],
            "day_id": first_days[1],
            **shared,
        },
    )


def _routes(app):
    for rule in app.url_map.iter_rules():
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule, method


def _call(client, method: str, url: str, data=None):
    """One request, read to the end and closed, as a server would (a streamed CSV included)."""
    response = client.open(url, method=method, data=data)
    response.get_data()
    response.close()
    return response


def _url(rule, values: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _expected(app, rule, method, role, owned: bool) -> int | tuple:
    access = getattr(app.view_functions[rule.endpoint], "access", None)
    if access != "public":
        if role is None:
            return 302
        if role not in access:
            return 403
        resource = {"reference", "pseudonym"} & set(rule.arguments)
        if resource and role == "volunteer" and not owned:
            return 404
    if (rule.endpoint, method) in ALLOWED_ANSWER and role is not None:
        return ALLOWED_ANSWER[(rule.endpoint, method)]
    if rule.endpoint == "auth.setup":
        return 404
    return 200 if method == "GET" else (302, 422)


def test_every_view_declares_who_may_use_it(app):
    undeclared = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "access", None) != "public"
        and not (isinstance(getattr(view, "access", None), frozenset) and view.access)
    ]
    assert undeclared == []


def test_the_access_matrix(app, world):
    mismatches = []
    for rule, method in _routes(app):
        for role in (None, *EVERYONE):
            for owned in (True, False):
                client = app.test_client()
                if role is not None:
                    login(client, world.users[role])
                url = _url(rule, world.own if owned else world.other)
                token = None
                if method == "POST":
                    token = csrf_field(client.get("/login" if role is None else "/cases").text)
                response = _call(client, method, url, token)
                expected = _expected(app, rule, method, role, owned)
                ok = (
                    response.status_code in expected
                    if isinstance(expected, tuple)
                    else response.status_code == expected
                )
                if role is None and expected == 302:
                    ok = ok and response.location.startswith("/login")
                if not ok:
                    mismatches.append(
                        f"{method} {url} as {role or 'anonymous'} ({'own' if owned else 'other'}): "
                        f"{response.status_code}, expected {expected}"
                    )
    assert mismatches == [], "\n".join(mismatches)


def test_every_post_route_refuses_a_request_without_csrf_token(app, world):
    client = app.test_client()
    login(client, world.users["admin"])
    answers = {
        _url(rule, world.own): _call(client, "POST", _url(rule, world.own), {}).status_code
        for rule, method in _routes(app)
        if "POST" in rule.methods
    }
    assert answers and set(answers.values()) == {400}, answers


def test_security_headers_on_every_page_and_error(app, world):
    admin = app.test_client()
    login(admin, world.users["admin"])
    for client in (admin, app.test_client()):
        for rule, method in _routes(app):
            response = _call(client, method, _url(rule, world.own))
            csp = response.headers.get("Content-Security-Policy", "")
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, rule.rule
            assert response.headers.get("X-Content-Type-Options") == "nosniff", rule.rule
            assert response.headers.get("Referrer-Policy") == "same-origin", rule.rule
            if rule.endpoint != "static":
                assert response.headers.get("Cache-Control") == "no-store", rule.rule
