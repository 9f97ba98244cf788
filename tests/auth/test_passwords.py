"""Passwords: argon2id, rehashed when the cost changes, weak ones refused with a reason, and
logins throttled in the database."""

from contextlib import ExitStack

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from app.auth.models import User
from app.auth.services import password_problem
from app.extensions import db
from config import TestConfig
from tests.databases import app_on_fresh_database
from tests.factories import PASSWORD
from tests.helpers import csrf_field, login, row_counts, submit

LOCKED = "locked for 15 minutes"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 12"),
        ("password1234", "very common password"),
        ("qwertyuiop123", "very common password"),
        ("x" * 129, "at most 128"),
        ("aaaaaaaaaaaaaaaa", "Repeats"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(ctx, password, reason):
    assert reason in password_problem(password, "anna@example.org")


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "Ночью тихо падал снег на крыши",
        "x" * 8 + " 🙂 " + "четыре слова ещё" + " " * 3,
        "q" * 20 + "Z9!" + "w" * 105,  # 128 characters exactly
    ],
)
def test_long_passphrases_of_any_characters_are_accepted(ctx, password):
    assert password_problem(password, "anna@example.org") is None


def test_a_password_made_of_the_email_is_weak(ctx):
    assert password_problem("anna.karimova2024", "anna.karimova@example.org") is not None


RUSSIAN_WORD = "Common Russian words"
PADDED = "Common words with digits or symbols added"
OTHER_LAYOUT = "Typed in the other keyboard layout"
FROM_EMAIL = "Do not build a password from your email address."


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("йцукенгшщзхъ", OTHER_LAYOUT),  # qwertyuiop[] on a Russian keyboard
        ("Пароль2024!!", PADDED),
        ("пароль123456", RUSSIAN_WORD),
        ("любовь123456", RUSSIAN_WORD),
        ("Москва2026Москва", PADDED),
        ("gfhjkm123456", RUSSIAN_WORD),  # пароль typed on a QWERTY layout
        ("lyubov123456", RUSSIAN_WORD),  # любовь in Latin letters
        ("Parol_123456", PADDED),
        ("Yfnfif_2024!", PADDED),  # Наташа typed on the QWERTY layout
        ("ячсмитьбю.1234", OTHER_LAYOUT),  # zxcvbnm,./ on a Russian keyboard
        ("Password2024!!", PADDED),  # and the English equivalents
        ("Moscow2026Moscow", PADDED),
    ],
)
def test_russian_words_and_the_other_keyboard_layout_are_judged_too(ctx, password, reason):
    assert reason in password_problem(password, "anna@example.org")


@pytest.mark.parametrize(
    ("russian", "english"),
    [
        ("сентябрь", "september"),
        ("декабрь", "december"),
        ("пятница", "friday"),
        ("воскресенье", "sunday"),
        ("любимая", "darling"),
        ("спасибо", "thanks"),
        ("бабочка", "butterfly"),
        ("чебурашка", "cheburashka"),
    ],
)
def test_a_russian_word_with_digits_is_refused_like_its_english_equivalent(ctx, russian, english):
    """Months, weekdays and the words people use for those they love: the English ones are in
    zxcvbn's lists, so the Russian ones are in ours."""
    assert password_problem(english + "2024!!!", "anna@example.org") is not None
    assert password_problem(russian + "2024!!!", "anna@example.org") is not None
    assert password_problem(russian.capitalize() + "2026!!", "anna@example.org") is not None


@pytest.mark.parametrize(
    "password",
    [
        "pwtest1@pt.testpwtest1",
        "PwTest1-PT-test!",
        "1tsetwp1tsetwp@@",  # reversed
        "зцеуые1@зе.еуые2024",  # typed on the Russian layout
        "пвтест1пттест2024",  # in Cyrillic letters
    ],
)
def test_a_password_built_from_the_email_is_refused_in_any_form(ctx, password):
    assert FROM_EMAIL in password_problem(password, "pwtest1@pt.test")


@pytest.mark.parametrize(
    "password",
    [
        "Ночью тихо падал снег на крыши",
        "Бабушка варит варенье из крыжовника",
        "Мой кот любит спать на подоконнике",
        "Съешь же ещё этих мягких французских булок",
        "Москва слезам не верит, а мы верим в суды",
    ],
)
def test_long_russian_passphrases_are_accepted(ctx, password):
    assert password_problem(password, "pwtest1@pt.test") is None


def test_the_email_rule_and_the_reasons_work_through_the_pages_in_russian(client, make):
    """The account pwtest1@pt.test cannot take its email as its password, and the reason is
    given in Russian."""
    user = make.user(email="pwtest1@pt.test")
    login(client, user)
    client.post("/language", data={**csrf_field(client.get("/cases").text), "locale": "ru"})
    weak = "pwtest1@pt.testpwtest1"
    response = submit(
        client, "/account/password", {"current": PASSWORD, "password": weak, "confirm": weak}
    )
    assert response.status_code == 422
    assert "Не составляйте пароль из адреса своей почты." in response.text
    for weak in ("Пароль2024!!", "йцукенгшщзхъ"):
        response = submit(
            client, "/account/password", {"current": PASSWORD, "password": weak, "confirm": weak}
        )
        assert response.status_code == 422, weak
        assert "легко угадать" in response.text


def test_an_admin_cannot_give_an_account_a_russian_common_password(client, make, app):
    login(client, make.user("admin"))
    before = row_counts(app)
    response = submit(
        client,
        "/admin/users/new",
        {
            "email": "new@example.org",
            "role": "volunteer",
            "password": "любовь123456",
            "confirm": "любовь123456",
        },
    )
    assert response.status_code == 422 and RUSSIAN_WORD in response.text
    assert row_counts(app) == before


def test_passwords_are_argon2id_and_rehashed_when_the_cost_changes(app, make, monkeypatch):
    user = make.user(password=PASSWORD)
    assert user.password_hash.startswith("$argon2id$") and "m=1024,t=1" in user.password_hash
    monkeypatch.setitem(
        app.config, "ARGON2_PARAMS", {"time_cost": 2, "memory_cost": 2048, "parallelism": 1}
    )
    login(app.test_client(), user)
    with app.app_context():
        assert "m=2048,t=2" in db.session.get(User, user.id).password_hash
    login(app.test_client(), user)  # still the same password


def _fail(client, email, times=1):
    for _ in range(times):
        response = submit(client, "/login", {"email": email, "password": "wrong password here"})
    return response


def test_five_failures_lock_the_account_for_15_minutes(client, make, clock):
    user = make.user()
    for _ in range(4):
        assert "Wrong email or password." in _fail(client, user.email).text
    assert LOCKED in _fail(client, user.email).text
    # While locked even the right password is refused, with the same message.
    right = submit(client, "/login", {"email": user.email, "password": PASSWORD})
    assert right.status_code == 422 and LOCKED in right.text
    clock.advance(minutes=14)
    assert LOCKED in submit(client, "/login", {"email": user.email, "password": PASSWORD}).text
    clock.advance(minutes=1, seconds=1)
    assert submit(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 302


def test_failures_spread_over_more_than_15_minutes_do_not_lock(client, make, clock):
    user = make.user()
    for _ in range(6):
        assert LOCKED not in _fail(client, user.email).text
        clock.advance(minutes=4)


def test_a_successful_login_clears_the_failures(client, make, app):
    user = make.user()
    _fail(client, user.email, times=4)
    assert submit(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 302
    other = app.test_client()
    assert "Wrong email or password." in _fail(other, user.email, times=4).text


def test_unknown_emails_get_the_same_answers_and_the_same_lock(client, make):
    make.user()
    for _ in range(4):
        assert "Wrong email or password." in _fail(client, "nobody@example.org").text
    assert LOCKED in _fail(client, "nobody@example.org").text


def test_every_refusal_costs_one_password_hash(client, make, monkeypatch):
    """Known, unknown and locked emails all take one argon2 verification, so their timing
    does not tell which accounts exist."""
    user = make.user()
    calls = []
    original = PasswordHasher.verify
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, *a: calls.append(1) or original(self, *a)
    )
    for email in (user.email, "nobody@example.org"):
        calls.clear()
        _fail(client, email)
        assert len(calls) == 1, email
    _fail(client, user.email, times=4)
    calls.clear()
    _fail(client, user.email)  # locked now
    assert len(calls) == 1


def test_throttling_holds_across_two_app_instances_sharing_a_database(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "shared by both workers")
    with app_on_fresh_database("sqlite", tmp_path, "shared") as first:
        url = first.config["SQLALCHEMY_DATABASE_URI"]
        from app import create_app

        config = TestConfig(url, tmp_path)
        config.SECRET_KEY = first.config["SECRET_KEY"] = "shared by both workers"
        second = create_app(config)
        with first.app_context():
            from app.auth.services import create_user

            create_user("shared@example.org", "volunteer", PASSWORD, by=None)
            db.session.commit()
        a, b = first.test_client(), second.test_client()
        _fail(a, "shared@example.org", times=3)
        assert LOCKED in _fail(b, "shared@example.org", times=2).text
        locked = submit(a, "/login", {"email": "shared@example.org", "password": PASSWORD})
        assert LOCKED in locked.text
        with second.app_context():
            db.session.remove()
            db.engine.dispose()
        with first.app_context():
            count = db.session.execute(sa.text("SELECT count(*) FROM login_failures")).scalar()
        assert count == 5


def test_with_every_hashing_slot_taken_a_login_is_told_busy_and_nothing_is_hashed(
    app, make, monkeypatch
):
    """argon2id takes 64 MiB a hash: a worker hashes at most PASSWORD_HASHING_SLOTS at once and
    answers the rest "busy, try again" in their language, without hashing or counting."""
    from app.auth.hashing import slot
    from app.auth.models import LoginFailure

    user = make.user()
    monkeypatch.setitem(app.config, "PASSWORD_HASHING_WAIT", 0.01)
    browser = app.test_client()
    browser.post("/language", data={**csrf_field(browser.get("/login").text), "locale": "ru"})
    calls = []
    original = PasswordHasher.verify
    monkeypatch.setattr(
        PasswordHasher, "verify", lambda self, *a: calls.append(1) or original(self, *a)
    )
    form = csrf_field(browser.get("/login").text)
    statements = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    taken = ExitStack()
    with app.app_context():
        taken.enter_context(slot())
        taken.enter_context(slot())
    try:
        with taken:  # both slots taken by other requests
            response = browser.post(
                "/login", data={**form, "email": user.email, "password": PASSWORD}
            )
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert statements == []  # a flood answered "busy" costs the database nothing
    assert "Подождите несколько секунд" in response.text
    assert calls == []
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(LoginFailure.id))).scalar() == 0
    assert submit(browser, "/login", {"email": user.email, "password": PASSWORD}).status_code == 302


def test_hashes_run_at_a_lower_priority_than_pages(client, make, monkeypatch):
    """On a busy machine a login flood's hashes must not starve the pages: they run on hashing
    threads with a lower scheduling priority (argon2's own threads inherit it)."""
    import os
    import threading

    from app.auth.hashing import NICENESS

    user = make.user()
    seen = []
    original = PasswordHasher.verify

    def verify(self, *args):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return original(self, *args)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    page_priority = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert submit(client, "/login", {"email": user.email, "password": PASSWORD}).status_code == 302
    assert seen == [NICENESS] and page_priority < NICENESS


@pytest.mark.parametrize(
    ("password", "advice"),
    [
        ("Спартак2024!", "Capitalization doesn't help very much."),
        ("Александр1985", "Capitalization doesn't help very much."),
        ("СПАРТАК2024!", "All-uppercase is almost as easy to guess as all-lowercase."),
    ],
)
def test_a_capitalised_russian_word_is_not_called_all_uppercase(ctx, password, advice):
    problem = password_problem(password, "anna@example.org")
    assert advice in problem
    if "Capitalization" in advice:
        assert "All-uppercase" not in problem
