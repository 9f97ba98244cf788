"""Hostile input on every route: for each rule of the app's URL map and each of its methods,
hypothesis sends its path parameters, the query parameters the pages use and the fields of the
forms that post to it (with a valid CSRF token) as hostile text, huge numbers, NUL, CR/LF and
any unicode, as each role and anonymous, on SQLite and PostgreSQL. No answer may be a 500 or
show a traceback.

The routes, their forms and their query parameters are found by walking the URL map and reading
the pages themselves, so a new route or field is fuzzed without a change here. Each route gets:
- a sweep (hypothesis's explicit examples): each of CATALOGUE's values in every query parameter
  and form field at once, at the address of one of this world's records, as the roles the route
  lets in; then the start of CATALOGUE in its path parameters;
- generated examples: any identity, each parameter left out, or given a hostile value drawn for
  the whole request, a value the page offers, that value broken (digits made huge, dates moved
  to year 1 or 9999, a line break added), or any other hostile text. They hold no NUL: one NUL
  anywhere is refused before anything else is read, so the sweep sends it alone.
A fixed profile (a seed per route, a bounded number of examples) keeps the run the same every
time and within tens of seconds per database."""

import io
import re
import zlib
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from app.access import EVERYONE
from app.audit.services import acting
from app.auth.models import User
from app.deadlines.models import CalendarDay, Deadline
from app.deadlines.services import renew_calendar_link
from app.extensions import db
from tests.helpers import csrf_field, login

EXAMPLES = 4  # generated, per route and method, after the sweep
PROFILE = settings(
    max_examples=EXAMPLES,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
IDENTITIES = ("anonymous", *EVERYONE)
# Routes after which the person may be someone else, or no one: their next request logs in anew.
CHANGES_WHO = {"auth.logout", "auth.end_sessions_of", "auth.edit_user", "auth.password"}
# Read by views from the query string without a form on the page that links to them.
QUERY_NAMES = {"next", "page", "after", "before", "year", "from", "to"}

# What has broken pages before, or might: each sweep sends every one of these in all the query
# parameters and form fields of a request; the first PATH_SWEEP of them in the path too.
CATALOGUE = [
    "a\0b",
    "99999999999999999999",
    "1" * 5000,
    "/x\r\nSet-Cookie: planted=1",
    "ж\u202e\U0001f600" * 40,
    "x" * 20_001,
    "0001-01-01",
    "9999-12-31",
    "2025-01-01.99999999999999999999",
    "NaN",
    "/\t/evil.example",
    "",
]
PATH_SWEEP = 6
HOSTILE = [
    *CATALOGUE,
    " ",
    "\0",
    "%00",
    "%0d%0a",
    str(2**31),
    str(2**63),
    "-1",
    "0",
    "-Infinity",
    "1e999",
    "2025-02-30",
    "1989-12-31",
    "2101-01-01",
    "9999-12-31.1",
    "//evil.example",
    "https://evil.example/",
    "'; DROP TABLE cases; --",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "＝１＋１",
]
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
hostile = st.one_of(
    st.sampled_from([h for h in HOSTILE if "\0" not in h]),
    text.map(lambda t: t.replace("\0", "")),
    st.integers(-(2**70), 2**70).map(str),
    st.dates().map(date.isoformat),
)


class _Forms(HTMLParser):
    """The forms of a page: (method, action, {field name: [values it offers]}, file fields), and
    the query parameters of its links."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict, set]] = []
        self.links: list[tuple[str, str]] = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").upper()
            self._current = (method, attrs.get("action") or "", {}, set())
            self.forms.append(self._current)
        elif tag == "a" and "?" in (attrs.get("href") or ""):
            self.links += parse_qsl(urlsplit(attrs["href"]).query)
        elif self._current is not None and tag in ("input", "select", "textarea", "option"):
            fields, files = self._current[2], self._current[3]
            if tag == "option":
                if self._select is not None:
                    fields[self._select].append(attrs.get("value") or "")
                return
            name = attrs.get("name")
            if not name:
                return
            fields.setdefault(name, [])
            if attrs.get("value"):
                fields[name].append(attrs["value"])
            self._select = name if tag == "select" else None
            if attrs.get("type") == "file":
                files.add(name)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None

    _select = None


@dataclass
class Target:
    """What is known of one route and method: the values its path parameters may take that
    mean something, and the fields of the forms that send to it."""

    fields: dict = field(default_factory=dict)
    files: set = field(default_factory=set)


@dataclass
class World:
    app: object
    make: object
    values: dict  # path parameter → values that mean something (records of this world)
    query: dict  # query parameter → values the pages offer
    targets: dict  # (endpoint, method) → Target
    clients: dict = field(default_factory=dict)  # identity → (test client, CSRF token)

    def client(self, identity: str):
        if identity not in self.clients:
            client = self.app.test_client()
            if identity == "anonymous":
                page = client.get("/login").text
            else:  # a new account each time: nothing done to an earlier one carries over
                login(client, self.make.user(identity))
                page = client.get("/cases").text
            self.clients[identity] = (client, csrf_field(page))
        return self.clients[identity]


def _records(app, make) -> dict:
    volunteer, colleague = make.user("volunteer"), make.user("volunteer")
    coordinator = make.user("coordinator")
    received = {"ruling_received_on": date(2025, 3, 3)}
    own = make.case(by=coordinator, assigned_to_id=volunteer.id, **received)
    other = make.case(by=coordinator, assigned_to_id=colleague.id, **received)
    clients = [make.client(by=volunteer), make.client(by=colleague)]
    with app.app_context():
        deadlines = db.session.execute(
            sa.select(Deadline.id).where(Deadline.case_id.in_([own.id, other.id]))
        ).scalars()
        # The calendar table holds an admin's corrections only: make a few to act on.
        acting(None)
        for day, working in [(date(2031, 6, 13), False), (date(2031, 6, 21), True)]:
            db.session.add(CalendarDay(day=day, is_working=working, note="перенос"))
        db.session.flush()
        days = db.session.execute(sa.select(CalendarDay.id).limit(3)).scalars()
        token = renew_calendar_link(db.session.get(User, volunteer.id), by=None)
        db.session.commit()
        return {
            "reference": [own.reference, other.reference],
            "pseudonym": [c.pseudonym for c in clients],
            "deadline_id": list(deadlines),
            "day_id": list(days),
            "user_id": [colleague.id],
            "benchmark_id": [1],
            "rule_id": [1],
            "token": [token],
            "filename": ["app.css", "app.js"],
        }


def _url(rule, values: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: quote(str(values[m.group(1)]), safe=""), rule.rule)


def _endpoint(app, action: str, method: str):
    try:
        endpoint, _ = app.url_map.bind("localhost").match(urlsplit(action).path, method=method)
    except HTTPException:
        return None
    return endpoint


def _learn(world: World, page_url: str, page: _Forms) -> None:
    """Note the query parameters and the forms of one page."""
    for name, value in page.links:
        world.query.setdefault(name, []).append(value)
    for method, action, fields, files in page.forms:
        if method == "GET":
            for name, offered in fields.items():
                world.query.setdefault(name, []).extend(offered)
            continue
        endpoint = _endpoint(world.app, action or page_url, method)
        if endpoint is None:
            continue
        target = world.targets[(endpoint, method)]
        for name, offered in fields.items():
            if not name.endswith("csrf_token"):
                target.fields.setdefault(name, []).extend(offered)
        target.files |= files


@pytest.fixture
def world(app, make) -> World:
    """The records, and every form and query parameter of every page each role can open (with
    a page of the case list one case long, so that it links to the next)."""
    values = _records(app, make)
    world = World(app, make, values, {name: [] for name in QUERY_NAMES}, {})
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            world.targets[(rule.endpoint, method)] = Target()
    per_page, app.config["CASES_PER_PAGE"] = app.config["CASES_PER_PAGE"], 1
    try:
        for identity in IDENTITIES:
            client, _ = world.client(identity)
            for rule in app.url_map.iter_rules():
                if "GET" not in rule.methods or rule.endpoint in ("static", "auth.setup"):
                    continue
                page_url = _url(rule, {name: found[0] for name, found in values.items()})
                response = client.get(page_url)
                if response.content_type.startswith("text/html"):
                    page = _Forms()
                    page.feed(response.get_data(as_text=True))
                    _learn(world, page_url, page)
                response.close()
    finally:
        app.config["CASES_PER_PAGE"] = per_page
    world.query = {name: sorted(set(offered)) for name, offered in world.query.items()}
    for target in world.targets.values():
        target.fields = {name: sorted(set(offered)) for name, offered in target.fields.items()}
    return world


def _identities(app, rule) -> tuple[list[str], list[str]]:
    """Who the route lets in, and who it does not (for them it answers before reading anything
    but the path)."""
    access = getattr(app.view_functions[rule.endpoint], "access", None)
    allowed = [i for i in IDENTITIES if access == "public" or i in access]
    return allowed, [i for i in IDENTITIES if i not in allowed]


def _is_id(rule, name: str) -> bool:
    return isinstance(rule._converters[name], IntegerConverter)


def _broken(value: str) -> list[str]:
    """A value a page offers, broken as a hand-edited link or a forged form would break it."""
    return [
        re.sub(r"\d+$", "9" * 20, value),
        re.sub(r"\d+", "9" * 20, value, count=1),
        re.sub(r"\d{4}-\d\d-\d\d", "0001-01-01", value),
        re.sub(r"\d{4}-\d\d-\d\d", "9999-12-31", value),
        value + "\r\nX: y",
        value * 50,
    ]


def _sweep(world: World, rule, method: str) -> list[tuple]:
    """The sweep's requests for this route (see the module's docstring)."""
    allowed, _ = _identities(world.app, rule)
    target = world.targets[(rule.endpoint, method)]
    record = _url(rule, {name: world.values.get(name, [1])[0] for name in rule.arguments})
    requests = []
    for k, value in enumerate(CATALOGUE):
        query = [(name, value) for name in sorted(world.query)] if method == "GET" else []
        form = {name: value for name in sorted(target.fields)}
        form |= {name: (value.encode(), "cases.csv") for name in sorted(target.files)}
        requests.append((allowed[k % len(allowed)], record, query, form))
    for k, value in enumerate(CATALOGUE[:PATH_SWEEP] if rule.arguments else []):
        path = {name: value for name in rule.arguments}
        requests.append((allowed[k % len(allowed)], _url(rule, path), [], {}))
    return requests


@st.composite
def _request(draw, world: World, rule, method: str):
    """One generated request to ``rule`` (see the module's docstring)."""
    allowed, refused = _identities(world.app, rule)
    identity = draw(st.sampled_from(allowed * 3 + refused))
    theme = draw(hostile)

    def value(offered: list) -> str | None:
        offered = [str(v) for v in offered] or [theme]
        return draw(
            st.one_of(
                st.just(theme),
                st.sampled_from(offered),
                st.sampled_from(offered).flatmap(lambda v: st.sampled_from(_broken(v))),
                hostile,
            )
        )

    path = {}
    for name in sorted(rule.arguments):
        meaningful = world.values.get(name, [])
        path[name] = value([*meaningful, 2**31, 2**63] if _is_id(rule, name) else meaningful)
    query = [
        (name, value(offered))
        for name, offered in sorted(world.query.items())
        if method == "GET" and draw(st.booleans())
    ]
    target = world.targets[(rule.endpoint, method)]
    form = {}
    if method == "POST":
        form = {name: value(offered) for name, offered in sorted(target.fields.items())}
        for name in sorted(target.files):
            content = draw(st.one_of(st.just(theme.encode()), st.binary(max_size=200)))
            form[name] = (content, value(["cases.csv"]))
    return identity, _url(rule, path), query, form


def _fuzz(world: World, rule, method: str) -> None:
    @PROFILE
    @seed(zlib.crc32(f"{method} {rule.rule}".encode()))  # each route its own examples
    @given(_request(world, rule, method))
    def no_500(request):
        identity, url, query, form = request
        client, token = world.client(identity)
        files = {k: (io.BytesIO(v[0]), v[1]) for k, v in form.items() if isinstance(v, tuple)}
        data = {**token, **form, **files} if method == "POST" else None
        response = client.open(url, method=method, query_string=query, data=data)
        body = response.get_data(as_text=True)
        response.close()
        if rule.endpoint in CHANGES_WHO:
            world.clients.pop(identity, None)
        assert response.status_code < 500, f"{method} {url} {query} {form} as {identity}"
        assert "Traceback" not in body

    for request in _sweep(world, rule, method):
        no_500 = example(request)(no_500)
    no_500()


@pytest.mark.slow
def test_no_route_answers_500_to_hostile_input(app, world):
    routes = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    assert len(routes) > 50
    for rule, method in routes:
        _fuzz(world, rule, method)
