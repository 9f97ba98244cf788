"""Server-side sessions: a cookie that is only a random token, and that can be revoked."""

import hashlib

import pytest
import sqlalchemy as sa

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
