"""The iCalendar feed (RFC 5545), built with the ``icalendar`` library.

A deadline is a whole-day event (VALUE=DATE): the law's last day is a date, the same wherever
the phone is. A hearing with a time starts at that time in HUQUQ_TIMEZONE (DTSTART;TZID=…, with
the zone's VTIMEZONE in the feed); one whose time is not known yet is a whole-day event too.
Each event carries two reminders: the day before, and on the morning of the day.

What an event says is only what the caller gives it (app/deadlines/routes.py: the case's
reference and type) — never a client, never a typed text, never a hearing's place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the library is imported by the feed itself, when one is asked for
    from icalendar import Alarm


MORNING = time(9, 0)  # the morning reminder, local time
HEARING_LENGTH = timedelta(hours=1)  # a hearing's length is not known: an hour holds its place


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    day: date
    summary: str
    at: time | None = None  # a local time of day (a hearing's), or None for a whole-day event


def _alarm(trigger: timedelta, description: str) -> Alarm:
    from icalendar import Alarm

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", description)
    alarm.add("trigger", trigger)
    return alarm


def _alarms(event: FeedEvent) -> list[Alarm]:
    """The day before (at 09:00 for a whole-day event, at the same time for a timed one) and
    on the morning of the day at 09:00 (an hour before a hearing that starts earlier than 10)."""
    if event.at is None:  # relative to the day's local midnight
        before = -(timedelta(days=1) - timedelta(hours=MORNING.hour, minutes=MORNING.minute))
        morning = timedelta(hours=MORNING.hour, minutes=MORNING.minute)
    else:
        start = timedelta(hours=event.at.hour, minutes=event.at.minute)
        nine = timedelta(hours=MORNING.hour, minutes=MORNING.minute)
        before = -timedelta(days=1)
        morning = nine - start if start - nine >= timedelta(hours=1) else -timedelta(hours=1)
    return [_alarm(before, event.summary), _alarm(morning, event.summary)]


def feed(
    events: Sequence[FeedEvent], name: str, zone: ZoneInfo, now: datetime, language: str
) -> bytes:
    """The calendar as bytes (CRLF lines, folded at 75 octets, by the library)."""
    from icalendar import Calendar, Event  # 9 MB: loaded by the workers that serve a feed

    calendar = Calendar()
    calendar.add("prodid", f"-//Huquq//Deadlines//{language.upper()}")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone.key)
    for item in events:
        event = Event()
        event.add("uid", f"{item.uid}@huquq")
        event.add("dtstamp", now)
        event.add("summary", item.summary)
        if item.at is None:
            event.add("dtstart", item.day)
            event.add("dtend", item.day + timedelta(days=1))
        else:
            start = datetime.combine(item.day, item.at, tzinfo=zone)
            event.add("dtstart", start)
            event.add("dtend", start + HEARING_LENGTH)
        event.add("transp", "TRANSPARENT" if item.at is None else "OPAQUE")
        for alarm in _alarms(item):
            event.add_component(alarm)
        calendar.add_component(event)
    # The zone's rules over the feed's own years only, not its whole history since 1970.
    days = [item.day for item in events]
    if days:
        calendar.add_missing_timezones(
            first_date=date(min(days).year, 1, 1), last_date=date(max(days).year + 1, 12, 31)
        )
    return calendar.to_ical()
