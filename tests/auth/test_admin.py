"""Admins manage accounts: create, change role, disable and re-enable. Nothing is deleted."""

import pytest

from tests.factories import PASSWORD
from tests.helpers import login, row_counts, submit


@pytest.fixture
def admin(make, client):
    user = make.user("admin")
    login(client, user)
    return user


def test_admin_creates_an_account_that_can_log_in(client, admin, app):
    response = submit(
        client,
        "/admin/users/new",
        {
            "email": "Nodira@Example.org",
            "role": "coordinator",
            "password": "tea with mint and lemon",
            "confirm": "tea with mint and lemon",
        },
        follow=True,
    )
    assert "nodira@example.org" in response.text and "coordinator" in response.text
    other = app.test_client()
    assert (
        submit(
            other, "/login", {"email": "nodira@example.org", "password": "tea with mint and lemon"}
        ).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "no-at-sign", "role": "volunteer"}, "valid email"),
        ({"email": "x@example.org", "role": "emperor"}, "Not a valid choice"),
        (
            {
                "email": "x@example.org",
                "role": "volunteer",
                "password": "password1234",
                "confirm": "password1234",
            },
            "very common password",
        ),
        (
            {
                "email": "x@example.org",
                "role": "volunteer",
                "password": "tea with mint and lemon",
                "confirm": "tea with mint",
            },
            "The passwords differ.",
        ),
    ],
)
def test_bad_new_account_is_refused(client, admin, app, data, message):
    before = row_counts(app)
    form = {"password": "tea with mint and lemon", "confirm": "tea with mint and lemon", **data}
    response = submit(client, "/admin/users/new", form)
    assert response.status_code == 422 and message in response.text
    assert row_counts(app) == before


def test_duplicate_email_is_refused(client, admin, make):
    make.user(email="taken@example.org")
    response = submit(
        client,
        "/admin/users/new",
        {
            "email": "TAKEN@example.org",
            "role": "volunteer",
            "password": "tea with mint and lemon",
            "confirm": "tea with mint and lemon",
        },
    )
    assert response.status_code == 422 and "already exists" in response.text


def test_disable_and_re_enable(client, admin, make, app):
    volunteer = make.user("volunteer")
    submit(client, f"/admin/users/{volunteer.id}", {"role": "volunteer"})
    assert "disabled" in client.get("/admin/users").text
    assert (
        submit(
            app.test_client(), "/login", {"email": volunteer.email, "password": PASSWORD}
        ).status_code
        == 422
    )
    submit(client, f"/admin/users/{volunteer.id}", {"role": "volunteer", "is_enabled": "y"})
    login(app.test_client(), volunteer)


def test_change_role(client, admin, make, app):
    volunteer = make.user("volunteer")
    submit(client, f"/admin/users/{volunteer.id}", {"role": "coordinator", "is_enabled": "y"})
    promoted = app.test_client()
    login(promoted, volunteer)
    case = make.case(by=admin)
    assert promoted.get(f"/cases/{case.reference}").status_code == 200


def test_admin_cannot_lock_themselves_out(client, admin):
    response = submit(client, f"/admin/users/{admin.id}", {"role": "admin"})
    assert response.status_code == 422 and "cannot disable your own account" in response.text
    response = submit(client, f"/admin/users/{admin.id}", {"role": "volunteer", "is_enabled": "y"})
    assert response.status_code == 422 and "cannot change your own role" in response.text


def test_unknown_account_is_404(client, admin):
    assert client.get("/admin/users/999999").status_code == 404
