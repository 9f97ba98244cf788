"""The range of dates the app takes, written once: every form, filter, import and URL that
takes a date refuses one outside it with a message, so a slip of the keyboard (0001, 9999) is
caught before it reaches the database or the term arithmetic. And the one "today"."""

import os
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context

from app import models_base

# A person's date of birth.
BIRTH_DATES_FROM = date(1900, 1, 1)
# Anything that happens in a case (opened, ruling, hearing, deadline, closed), a report's
# period, a working-calendar day.
CASE_DATES_FROM = date(1990, 1, 1)
CASE_DATES_TO = date(2100, 12, 31)


def is_case_date(day: date) -> bool:
    """Whether ``day`` is one a case can hold."""
    return CASE_DATES_FROM <= day <= CASE_DATES_TO


DEFAULT_TIMEZONE = "Europe/Moscow"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def check_timezone(name: str) -> None:
    """Refuse an unknown zone name (``HUQUQ_TIMEZONE=Moscow``) when the app is built."""
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"HUQUQ_TIMEZONE={name!r} is not a time zone name (e.g. Europe/Moscow)"
        ) from None


def timezone() -> ZoneInfo:
    """The organisation's time zone: ``HUQUQ_TIMEZONE`` (config BABEL_DEFAULT_TIMEZONE)."""
    name = (
        current_app.config.get("BABEL_DEFAULT_TIMEZONE")
        if has_app_context()
        else os.environ.get("HUQUQ_TIMEZONE")
    )
    return _zone(name or DEFAULT_TIMEZONE)


def now() -> datetime:
    """The present moment in the organisation's time zone, from the app's one clock
    (``models_base.utcnow``, which the tests hold still)."""
    return models_base.utcnow().astimezone(timezone())


def today() -> date:
    """Today's date where the organisation works, never the server clock's own: a server in
    UTC at 22:30 is already tomorrow in Moscow. Every "today" in the app comes from here
    (tests/test_dates.py fails on a ``date.today()`` anywhere in app/)."""
    return now().date()
