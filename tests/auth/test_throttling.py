"""Wrong passwords are counted per account and address (the owner elsewhere still gets in), per
address over many accounts, and wherever a password is asked: at login, before an identified
export, before a password change. Locks are audited and the admins alerted."""

import json
import sqlite3
from contextlib import ExitStack

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from app.audit.models import AuditEvent
from app.auth.models import LoginFailure, SecurityAlert
from app.extensions import db
from tests.databases import app_on_fresh_database
from tests.factories import PASSWORD, Factories
from tests.helpers import login, submit

LOCKED = "locked for 15 minutes"
NETWORK_LOCKED = "from your network"
WRONG = "wrong password here"
HOME, CAFE, ATTACKER = "198.51.100.7", "192.0.2.44", "203.0.113.9"


def _from(app, address: str):
    """A browser at ``address``."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    return browser


def _try(browser, email: str, password: str = WRONG):
    return submit(browser, "/login", {"email": email, "password": password})


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(db.session.execute(query).scalars())


def test_an_attacker_cannot_keep_the_admin_out_from_another_address(app, make):
    admin = make.user("admin")
    attacker = _from(app, ATTACKER)
    for _ in range(4):
        assert "Wrong email or password." in _try(attacker, admin.email).text
    assert LOCKED in _try(attacker, admin.email).text
    # Locked from there, even with the right password …
    assert LOCKED in _try(attacker, admin.email, PASSWORD).text
    # … while the admin, at home, logs in.
    assert _try(_from(app, HOME), admin.email, PASSWORD).status_code == 302


def test_one_address_trying_many_accounts_is_locked_out(app, make):
    users = [make.user() for _ in range(5)]
    attacker = _from(app, ATTACKER)
    for user in users:  # 4 each: never 5 for one account, 20 in all
        for _ in range(4):
            response = _try(attacker, user.email)
    assert NETWORK_LOCKED in response.text
    # Every account, known or not, right password or not, is refused from there now …
    assert NETWORK_LOCKED in _try(attacker, "nobody@example.org").text
    assert NETWORK_LOCKED in _try(attacker, users[0].email, PASSWORD).text
    # … and nobody is locked out anywhere else.
    assert _try(_from(app, HOME), users[0].email, PASSWORD).status_code == 302


def test_a_trusted_proxy_names_the_client_and_nobody_else_can(app, make):
    """Behind the proxy (FORWARDED_ALLOW_IPS: 127.0.0.1, the test client's address) each client
    is counted under its own address; a client that is not the proxy cannot pick one."""
    user = make.user()
    via_proxy = app.test_client()  # REMOTE_ADDR 127.0.0.1: the proxy
    via_proxy.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.9.9.9, {ATTACKER}"
    for _ in range(5):
        _try(via_proxy, user.email)
    assert LOCKED in _try(via_proxy, user.email, PASSWORD).text
    other_client = app.test_client()
    other_client.environ_base["HTTP_X_FORWARDED_FOR"] = HOME
    assert _try(other_client, user.email, PASSWORD).status_code == 302
    # Straight from the attacker's address, a forged header changes nothing: still locked.
    forged = _from(app, ATTACKER)
    forged.environ_base["HTTP_X_FORWARDED_FOR"] = HOME
    assert LOCKED in _try(forged, user.email, PASSWORD).text


def test_unknown_emails_and_the_address_lock_cost_one_hash_each(app, make, monkeypatch):
    user = make.user()
    calls = []
    original = PasswordHasher.verify
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, *a: calls.append(1) or original(self, *a)
    )
    attacker = _from(app, ATTACKER)
    for n in range(21):  # the 20th locks the address; the 21st is refused while locked
        calls.clear()
        _try(attacker, user.email if n in (1, 2, 3) else f"nobody{n}@example.org")
        assert len(calls) == 1, n
    assert NETWORK_LOCKED in _try(attacker, user.email).text


def test_one_address_flooding_leaves_a_hashing_slot_for_everyone_else(app, make):
    """One address may hold all of a worker's hashing slots but one: the rest of its flood is
    answered "busy" at once, on a brief page, and the staff elsewhere still log in."""
    from app.auth.hashing import slot
    from app.auth.services import address_key

    user = make.user()
    taken = ExitStack()
    with app.app_context():
        taken.enter_context(slot(address_key(ATTACKER)))  # the flood's share, busy hashing
    with taken:
        assert _try(_from(app, ATTACKER), user.email, PASSWORD).status_code == 503
        # Answered before its form is even read: the surplus costs as little as it can.
        assert _from(app, ATTACKER).post("/login", data={}).status_code == 503
        assert _try(_from(app, HOME), user.email, PASSWORD).status_code == 302


def _confirm_export(browser, password):
    return submit(browser, "/exports/cases-identified", {"password": password})


def _change_password(browser, current):
    new = "a brand new passphrase here"
    return submit(
        browser, "/account/password", {"current": current, "password": new, "confirm": new}
    )


@pytest.mark.parametrize(
    ("step", "ask"), [("export", _confirm_export), ("password", _change_password)]
)
def test_a_password_asked_again_is_throttled_and_audited(app, make, step, ask):
    admin = make.user("admin")
    browser = _from(app, ATTACKER)  # a stolen, logged-in phone
    login(browser, admin)
    for n in range(4):
        assert ask(browser, f"guess number {n}").status_code == 422
    assert LOCKED in ask(browser, "guess number 4").text
    # Locked: even the right password is refused now, and nothing is exported or changed.
    refused = ask(browser, PASSWORD)
    assert refused.status_code == 422 and LOCKED in refused.text
    assert "Content-Disposition" not in refused.headers
    # The same lock as the login's: the account cannot be logged into from there either …
    assert LOCKED in _try(_from(app, ATTACKER), admin.email, PASSWORD).text
    # … but from home it can.
    assert _try(_from(app, HOME), admin.email, PASSWORD).status_code == 302
    refusals = _events(app, "refused")
    assert [e.changes["step"][1] for e in refusals] == [step] * 6
    assert all(e.actor_id == admin.id and e.entity_id == admin.id for e in refusals)
    assert refusals[-1].changes["locked"][1] is True
    (lock,) = _events(app, "locked")
    assert lock.entity_id == admin.id and lock.changes["scope"][1] == "account"
    with app.app_context():  # what was typed is kept nowhere
        trail = json.dumps([e.changes for e in db.session.execute(sa.select(AuditEvent)).scalars()])
    assert "guess number" not in trail and PASSWORD not in trail


def test_wrong_passwords_asked_again_count_with_the_login_failures(app, make):
    admin = make.user("admin")
    phone = _from(app, ATTACKER)
    login(phone, admin)
    for _ in range(3):
        _confirm_export(phone, WRONG)
    for _ in range(2):
        _try(_from(app, ATTACKER), admin.email)
    assert LOCKED in _confirm_export(phone, PASSWORD).text


def test_the_right_password_asked_again_still_works_and_clears_nothing_elsewhere(app, make):
    admin = make.user("admin")
    phone = _from(app, HOME)
    login(phone, admin)
    for _ in range(4):
        _try(_from(app, ATTACKER), admin.email)
    assert _confirm_export(phone, WRONG).status_code == 422
    response = _confirm_export(phone, PASSWORD)
    assert response.status_code == 200 and "identified" in response.headers["Content-Disposition"]
    assert response.text.startswith("\ufeffreference,")
    # The failures from the attacker's address still count there.
    assert LOCKED in _try(_from(app, ATTACKER), admin.email).text


def _banner(browser) -> str:
    page = browser.get("/cases").text
    return page.split("<main>")[1].split("</p>")[0] if "security alert" in page else ""


def test_admins_are_alerted_at_once_and_mark_alerts_seen(app, make):
    admin, volunteer = make.user("admin"), make.user("volunteer")
    office = _from(app, HOME)
    login(office, admin)
    assert _banner(office) == ""
    attacker = _from(app, ATTACKER)
    for _ in range(5):
        _try(attacker, volunteer.email)
    for _ in range(5):  # repeats gather on the open alert
        _try(_from(app, "203.0.113.77"), volunteer.email)
    assert "1 security alert" in _banner(office)
    listing = office.get("/admin/alerts").text
    assert volunteer.email in listing and "an account is being locked" in listing
    with app.app_context():
        alert = db.session.execute(sa.select(SecurityAlert)).scalar_one()
        assert (alert.user_id, alert.count, alert.seen_at) == (volunteer.id, 2, None)
    # Volunteers see neither the banner nor the list.
    volunteer_browser = _from(app, CAFE)
    login(volunteer_browser, make.user("volunteer"))
    assert _banner(volunteer_browser) == ""
    assert volunteer_browser.get("/admin/alerts").status_code == 403
    response = submit(office, "/admin/alerts", {}, action="/admin/alerts/seen", follow=True)
    assert "1 alert marked seen." in response.text
    assert _banner(office) == ""
    assert admin.email in office.get("/admin/alerts").text  # who saw it stays listed


def test_an_address_trying_many_accounts_alerts_the_admins(app, make):
    admin = make.user("admin")
    users = [make.user() for _ in range(5)]
    attacker = _from(app, ATTACKER)
    for user in users:
        for _ in range(4):
            _try(attacker, user.email)
    office = _from(app, HOME)
    login(office, admin)
    assert "1 security alert" in _banner(office)
    assert "one address is trying many accounts" in office.get("/admin/alerts").text
    (lock,) = _events(app, "locked")
    assert lock.entity_id is None and lock.changes["scope"][1] == "address"


def test_old_failures_without_an_address_do_not_lock_anyone(app, make, clock):
    """Failures kept before addresses were counted (migration 0012) lock nobody."""
    user = make.user()
    with app.app_context():
        from app.auth.services import account_key

        for _ in range(5):
            db.session.add(LoginFailure(account_key=account_key(user.email), failed_at=clock()))
        db.session.commit()
    assert _try(_from(app, HOME), user.email, PASSWORD).status_code == 302


def test_no_transaction_is_open_while_a_password_is_hashed(tmp_path, monkeypatch):
    """On SQLite a write transaction holds the one write lock: were it held through a hash
    (0.1 s, 64 MiB), a login flood would queue every save behind it. While argon2 runs, at
    login, before an identified export and at a password change, another connection can write."""
    with app_on_fresh_database("sqlite", tmp_path, "hashing") as app:
        admin = Factories(app).user("admin")
        held = []
        original = PasswordHasher.verify

        def verify(self, *args):
            other = sqlite3.connect(tmp_path / "hashing.sqlite3", timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                held.append(False)
            except sqlite3.OperationalError:
                held.append(True)
            finally:
                other.close()
            return original(self, *args)

        monkeypatch.setattr(PasswordHasher, "verify", verify)
        browser = app.test_client()
        assert _try(browser, admin.email).status_code == 422
        login(browser, admin)
        assert _confirm_export(browser, WRONG).status_code == 422
        assert _change_password(browser, PASSWORD).status_code == 302
        assert held == [False] * 4
