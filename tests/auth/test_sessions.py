"""Server-side sessions: a cookie that is only a random token, and that can be revoked."""

import hashlib
import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from app.auth.models import UserSession
from app.extensions import db
from tests.factories import PASSWORD
from tests.helpers import csrf_field, login, submit

COOKIE = "huquq_session"


def _token(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None, "no session cookie"
    return cookie.value


def _with_cookie(app, token):
    other = app.test_client()
    other.set_cookie(COOKIE, token)
    return other


def _is_logged_in(client) -> bool:
    return client.get("/cases").status_code == 200


def test_the_cookie_is_only_a_random_token_and_the_database_keeps_its_hash(client, make, app):
    user = make.user()
    login(client, user)
    token = _token(client)
    assert len(token) >= 40 and "." not in token  # no signed payload: nothing but the id
    assert user.email not in token
    with app.app_context():
        row = db.session.execute(
            sa.select(UserSession).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        ).scalar_one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in row.data


def test_cookie_flags(app, make):
    make.user()
    header = app.test_client().get("/login").headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    over_https = app.test_client().get("/login", base_url="https://huquq.example")
    assert "Secure" in over_https.headers["Set-Cookie"]


def test_login_issues_a_new_token(client, make, app):
    user = make.user()
    client.get("/login")
    before = _token(client)
    login(client, user)
    assert _token(client) != before
    assert not _is_logged_in(_with_cookie(app, before))


def test_a_logged_out_cookie_no_longer_works(client, make, app):
    user = make.user()
    login(client, user)
    stolen = _token(client)
    client.post("/logout", data=csrf_field(client.get("/cases").text))
    assert not _is_logged_in(client)
    assert not _is_logged_in(_with_cookie(app, stolen))


def test_admin_ends_every_session_of_a_user(client, make, app):
    volunteer, admin = make.user("volunteer"), make.user("admin")
    phone, laptop = app.test_client(), app.test_client()
    login(phone, volunteer)
    login(laptop, volunteer)
    login(client, admin)
    response = submit(
        client,
        f"/admin/users/{volunteer.id}",
        {},
        action=f"/admin/users/{volunteer.id}/sessions/end",
        follow=True,
    )
    assert "2 sessions" in response.text
    assert not _is_logged_in(phone) and not _is_logged_in(laptop)
    assert _is_logged_in(client)
    login(phone, volunteer)  # and the volunteer can log in again
    assert _is_logged_in(phone)


def test_disabling_a_user_ends_their_sessions_and_login(client, make, app):
    volunteer, admin = make.user("volunteer"), make.user("admin")
    phone = app.test_client()
    login(phone, volunteer)
    login(client, admin)
    response = submit(client, f"/admin/users/{volunteer.id}", {"role": "volunteer"})
    assert response.status_code == 302
    assert not _is_logged_in(phone)
    refused = submit(phone, "/login", {"email": volunteer.email, "password": PASSWORD})
    assert refused.status_code == 422


def test_changing_password_ends_the_other_sessions_only(client, make, app):
    user = make.user()
    other = app.test_client()
    login(client, user)
    login(other, user)
    response = submit(
        client,
        "/account/password",
        {
            "current": PASSWORD,
            "password": "a brand new passphrase here",
            "confirm": "a brand new passphrase here",
        },
    )
    assert response.status_code == 302
    assert _is_logged_in(client)
    assert not _is_logged_in(other)
    assert submit(other, "/login", {"email": user.email, "password": PASSWORD}).status_code == 422
    login(other, user, "a brand new passphrase here")


def test_password_change_needs_the_current_password(client, make):
    user = make.user()
    login(client, user)
    response = submit(
        client,
        "/account/password",
        {
            "current": "not my password",
            "password": "a brand new passphrase here",
            "confirm": "a brand new passphrase here",
        },
    )
    assert response.status_code == 422 and "not your current password" in response.text


def test_an_idle_session_expires_after_30_minutes(client, make, clock):
    user = make.user()
    login(client, user)
    clock.advance(minutes=29)
    assert _is_logged_in(client)  # activity keeps it alive…
    clock.advance(minutes=29)
    assert _is_logged_in(client)
    clock.advance(minutes=31)  # …until half an hour passes without a request
    response = client.get("/cases")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_a_session_ends_12_hours_after_login_however_active(client, make, clock):
    user = make.user()
    login(client, user)
    for _ in range(35):  # a request every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        assert _is_logged_in(client)
    clock.advance(minutes=21)
    assert not _is_logged_in(client)


@pytest.mark.parametrize("token", ["", "x" * 500, "not-a-token", "' OR 1=1 --"])
def test_a_forged_cookie_is_just_an_anonymous_visitor(app, token):
    visitor = _with_cookie(app, token)
    response = visitor.get("/cases")
    assert response.status_code == 302 and response.location.startswith("/login")


def _session_rows(app) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(UserSession)).scalar()


def test_visitors_who_do_not_log_in_leave_no_rows(app, make):
    """A scan of the site (the login page, the health check, pages that do not exist, the
    stylesheet), with or without keeping cookies, writes nothing to the database."""
    make.user()
    before = _session_rows(app)
    keeper = app.test_client()
    paths = ["/login", "/healthz", "/no/such/page", "/static/app.css", "/cases"]
    for n in range(100):
        visitor = keeper if n % 2 else app.test_client()
        response = visitor.get(paths[n % len(paths)])
        assert response.status_code in (200, 302, 404)
    assert _session_rows(app) == before
    # A visitor's form still works: the CSRF secret travels in the signed cookie.
    response = submit(keeper, "/login", {"email": "x@example.org", "password": "wrong one!"})
    assert response.status_code == 422 and "Wrong email or password." in response.text
    assert _session_rows(app) == before


def test_a_visitors_cookie_cannot_be_made_into_a_login(app, make):
    """The visitor's cookie is signed, and even a correctly signed one carries nothing but the
    CSRF secret, the language and messages: who is logged in lives only in the database."""
    admin = make.user("admin")
    signer = URLSafeTimedSerializer(app.secret_key, salt="huquq-visitor")
    forged = signer.dumps({"_user_id": str(admin.id), "_fresh": True, "csrf_token": "x"})
    assert not _is_logged_in(_with_cookie(app, forged))
    tampered = app.test_client()
    tampered.get("/login")
    value = _token(tampered)
    assert not _is_logged_in(_with_cookie(app, value[:-2] + ("A" if value[-2] != "A" else "B")))


def test_a_cookie_planted_before_login_is_worthless_after_it(app, make):
    user = make.user()
    attacker = app.test_client()
    attacker_page = attacker.get("/login").text
    planted = _token(attacker)
    victim = _with_cookie(app, planted)
    login(victim, user)
    assert _token(victim) != planted and "." not in _token(victim)
    assert not _is_logged_in(_with_cookie(app, planted))
    # The CSRF secret is new too: a token the attacker saw before the login forges nothing.
    forged = victim.post("/logout", data=csrf_field(attacker_page))
    assert forged.status_code == 400 and _is_logged_in(victim)


def test_every_post_still_needs_its_csrf_token(app, make):
    user = make.user()
    visitor, other = app.test_client(), app.test_client()
    data = {"email": user.email, "password": PASSWORD}
    assert visitor.post("/login", data=data).status_code == 400
    assert (
        visitor.post("/login", data={**data, **csrf_field(other.get("/login").text)}).status_code
        == 400
    )
    assert not _is_logged_in(visitor)


def _expire_and_end(app, make, clock):
    """Four sessions: one logged out, one idle past 30 minutes, one past its 12 hours (kept
    busy), and one alive."""
    user = make.user()
    ended, idle, old, alive = (app.test_client() for _ in range(4))
    for browser in (ended, idle, old):
        login(browser, user)
    ended.post("/logout", data=csrf_field(ended.get("/cases").text))
    for _ in range(37):  # 12 h 20 min, a request every 20 minutes
        clock.advance(minutes=20)
        old.get("/cases")
    login(alive, user)
    return alive


def test_ended_and_expired_sessions_are_purged_by_retention_run(app, make, clock):
    alive = _expire_and_end(app, make, clock)
    assert _session_rows(app) == 4
    result = app.test_cli_runner().invoke(args=["retention", "run"])
    assert result.exit_code == 0 and "Deleted 3 ended or expired sessions" in result.output
    assert _session_rows(app) == 1 and _is_logged_in(alive)


def test_ended_and_expired_sessions_are_purged_after_a_request_every_few_minutes(
    app, make, clock, monkeypatch
):
    alive = _expire_and_end(app, make, clock)
    assert _session_rows(app) == 4
    monkeypatch.setitem(app.config, "HOUSEKEEPING_EVERY", 300)
    monkeypatch.delitem(app.extensions, "huquq.housekeeping", raising=False)  # a new worker
    alive.get("/healthz").close()  # the housekeeping runs once the response is sent
    assert _session_rows(app) == 1 and _is_logged_in(alive)
    other = app.test_client()
    login(other, make.user())
    other.post("/logout", data=csrf_field(other.get("/cases").text)).close()
    alive.get("/healthz").close()  # not five minutes yet: the ended row stays for now
    assert _session_rows(app) == 2
    clock.advance(minutes=5)
    alive.get("/healthz").close()
    assert _session_rows(app) == 1 and _is_logged_in(alive)


def _calendar_link(browser) -> str:
    page = submit(browser, "/account/calendar", {}).text
    link = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    path = urlsplit(link).path
    assert browser.get(path).status_code == 200
    return path


def test_end_all_sessions_ends_the_calendar_link(client, make, app):
    volunteer, admin = make.user("volunteer"), make.user("admin")
    phone = app.test_client()
    login(phone, volunteer)
    feed = _calendar_link(phone)
    login(client, admin)
    submit(
        client,
        f"/admin/users/{volunteer.id}",
        {},
        action=f"/admin/users/{volunteer.id}/sessions/end",
    )
    assert app.test_client().get(feed).status_code == 404


def test_a_password_change_ends_the_calendar_link(client, make, app):
    user = make.user()
    login(client, user)
    feed = _calendar_link(client)
    new = "a brand new passphrase here"
    submit(client, "/account/password", {"current": PASSWORD, "password": new, "confirm": new})
    assert app.test_client().get(feed).status_code == 404
    assert "Make a link" in client.get("/account/calendar").text  # and a new one can be made
    assert app.test_client().get(_calendar_link(client)).status_code == 200


def test_disabling_an_account_ends_its_calendar_link_for_good(client, make, app):
    volunteer, admin = make.user("volunteer"), make.user("admin")
    phone = app.test_client()
    login(phone, volunteer)
    feed = _calendar_link(phone)
    login(client, admin)
    submit(client, f"/admin/users/{volunteer.id}", {"role": "volunteer"})  # not enabled
    assert app.test_client().get(feed).status_code == 404
    submit(client, f"/admin/users/{volunteer.id}", {"role": "volunteer", "is_enabled": "y"})
    assert app.test_client().get(feed).status_code == 404  # re-enabled: the old link stays dead
