"""Logging in and out, and the first-run page."""

import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.extensions import db
from tests.helpers import csrf_field, login, row_counts, submit


def test_login_then_logout(client, make):
    user = make.user("volunteer")
    login(client, user)
    assert client.get("/cases").status_code == 200
    response = client.post("/logout", data=csrf_field(client.get("/cases").text))
    assert response.status_code == 302
    assert client.get("/cases").status_code == 302


def test_login_returns_to_the_page_asked_for(client, make):
    user = make.user("volunteer")
    assert client.get("/clients").location == "/login?next=/clients"
    response = submit(
        client,
        "/login?next=/clients",
        {"email": user.email, "password": "a sturdy test passphrase"},
    )
    assert response.location == "/clients"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_login_never_redirects_off_site(client, make, target):
    user = make.user("volunteer")
    response = submit(
        client,
        f"/login?next={target}",
        {"email": user.email, "password": "a sturdy test passphrase"},
    )
    assert response.location == "/cases"


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("nobody@example.org", "Wrong email or password."),
        ("' OR 1=1 --", "Wrong email or password."),
        ("real@example.org\x00", "Wrong email or password."),
        ("", "This field is required."),
        ("ä" * 300, "longer than 254"),
    ],
)
def test_bad_login_is_refused_cleanly(client, make, email, message):
    make.user("volunteer", email="real@example.org")
    response = submit(client, "/login", {"email": email, "password": "wrong password!"})
    assert response.status_code == 422 and message in response.text
    assert client.get("/cases").status_code == 302


def test_wrong_password_is_refused(client, make):
    user = make.user("volunteer")
    response = submit(client, "/login", {"email": user.email, "password": "not the password"})
    assert response.status_code == 422 and "Wrong email or password." in response.text
    assert client.get("/cases").status_code == 302


def test_email_is_matched_whatever_its_case(client, make):
    user = make.user("volunteer", email="Case.Worker@Example.org")
    response = submit(
        client,
        "/login",
        {"email": "  CASE.worker@example.ORG ", "password": "a sturdy test passphrase"},
    )
    assert response.status_code == 302 and user.email == "case.worker@example.org"


def test_first_run_page_creates_the_admin_then_disappears(client, app):
    assert client.get("/login").location == "/setup"
    response = submit(
        client,
        "/setup",
        {
            "email": "boss@example.org",
            "password": "long enough passphrase",
            "confirm": "long enough passphrase",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        admin = db.session.execute(sa.select(User)).scalar_one()
        assert (admin.email, admin.role) == ("boss@example.org", "admin")
    assert client.get("/cases").status_code == 200  # logged in as the new admin
    assert client.get("/setup").status_code == 404


def test_first_run_refuses_a_short_password_and_writes_nothing(client, app):
    before = row_counts(app)
    response = submit(
        client, "/setup", {"email": "boss@example.org", "password": "short", "confirm": "short"}
    )
    assert response.status_code == 422 and "at least 12 characters" in response.text
    assert row_counts(app) == before


def test_setup_is_gone_once_a_user_exists(client, make):
    make.user("volunteer")
    assert client.get("/setup").status_code == 404
    assert client.post("/setup", data={"email": "x@example.org"}).status_code in (400, 404)
