from collections import defaultdict
from datetime import date, timedelta

from babel import dates as babel_dates
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app import dates, models_base
from app.access import ADMIN, EVERYONE, public, roles
from app.auth.models import LOCALES
from app.cases.models import CASE_TYPES
from app.cases.queries import active_rules, work_calendars
from app.cases.regions import REGIONS
from app.cases.terms import days_left
from app.cases.workdays import library_year
from app.dates import CASE_DATES_FROM, CASE_DATES_TO
from app.deadlines import ical
from app.deadlines.forms import CalculatorForm, CalendarDayForm, RuleForm
from app.deadlines.models import SOON, TERM_UNITS, TRIGGERS, CalendarDay, DeadlineRule
from app.deadlines.queries import (
    all_rules,
    calculate,
    calendar_days,
    due_items,
    feed_items,
    user_by_calendar_token,
)
from app.deadlines.services import (
    add_calendar_day,
    remove_calendar_day,
    renew_calendar_link,
    save_rule,
    token_hash,
)
from app.errors import RuleViolation
from app.extensions import db
from app.forms_base import BaseForm, form_status, show_refusal

bp = Blueprint("deadlines", __name__)


def _week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@bp.route("/deadlines")
@roles(*EVERYONE)
def overview():
    """Open deadlines by due date, soonest first (overdue ones first of all), and hearings by
    week: a volunteer's own, or everyone's for coordinators, who may group them by volunteer
    (``?by=volunteer``, kept in the URL)."""
    today = dates.today()
    items = due_items(current_user, today)
    rows = [(d, days_left(d.due_on, today)) for d in items if d.kind == "deadline"]
    by_volunteer = current_user.is_coordinator and request.args.get("by") == "volunteer"
    if by_volunteer:
        people = defaultdict(list)
        for row in rows:
            people[row[0].assignee].append(row)
        groups = sorted(people.items(), key=lambda p: (p[0] is None, p[0] or ""))
    else:
        groups = [(None, rows)] if rows else []
    weeks = defaultdict(list)
    for hearing in (i for i in items if i.kind == "hearing"):
        weeks[_week_of(hearing.due_on)].append(hearing)
    return render_template(
        "deadlines/overview.html",
        groups=groups,
        by_volunteer=by_volunteer,
        overdue=sum(1 for _row, left in rows if left < 0),
        soon=sum(1 for _row, left in rows if 0 <= left <= SOON),
        total=len(rows),
        weeks=sorted(weeks.items()),
        labels=CASE_TYPES,
    )


@bp.route("/account/calendar", methods=["GET", "POST"])
@roles(*EVERYONE)
def calendar_link():
    """The user's secret calendar link: shown once when made; renewing it ends the old one."""
    form = BaseForm()
    link = None
    if form.validate_on_submit():
        token = renew_calendar_link(current_user, by=current_user)
        db.session.commit()
        link = url_for("deadlines.calendar_feed", token=token, _external=True)
    return render_template(
        "deadlines/calendar_link.html",
        form=form,
        link=link,
        has_link=current_user.calendar_token_hash is not None,
    )


@bp.route("/calendar/<token>.ics")
@public
def calendar_feed(token: str):
    """The calendar feed behind the secret link, in its owner's language: each event names
    the case's reference and type only. Not a hearing's court or room: with the date and time
    they find the client by name in the court's published list of hearings, and a calendar
    link ends up in phones, backups and shared calendars; the case page has the place."""
    user = user_by_calendar_token(token_hash(token)) if len(token) < 100 else None
    if user is None:
        abort(404)
    language = (
        user.locale
        if user.locale in LOCALES
        else request.accept_languages.best_match(list(LOCALES)) or "en"
    )
    with force_locale(language):
        events = [
            ical.FeedEvent(
                uid=f"{item.kind}-{item.item_id}",
                day=item.due_on,
                at=item.hearing_time,
                summary=(
                    _("Deadline: %(type)s — %(reference)s")
                    if item.kind == "deadline"
                    else _("Hearing: %(type)s — %(reference)s")
                )
                % {"reference": item.reference, "type": CASE_TYPES[item.case_type]},
            )
            for item in feed_items(user, dates.today() - timedelta(days=30))
        ]
        body = ical.feed(
            events, _("Huquq: deadlines"), dates.timezone(), models_base.utcnow(), language
        )
    return Response(body, content_type="text/calendar; charset=utf-8")


@bp.route("/deadlines/calculator")
@roles(*EVERYONE)
def calculator():
    """The last day of a term from a date, with why: a rule, or a term typed in."""
    rules = active_rules()
    form = CalculatorForm(request.args, rules=rules)
    results = []
    if not request.args.get("on"):
        form.on.data = dates.today()
    elif form.validate() and form.on.data:
        results = calculate(
            form.on.data,
            int(form.rule.data) if form.rule.data else None,
            form.length.data,
            form.unit.data or "days",  # a number typed without a unit: days
            form.region.data or None,
        )
    return render_template("deadlines/calculator.html", form=form, results=results)


@bp.route("/admin/deadline-rules")
@roles(ADMIN)
def list_rules():
    """The terms the law sets, as the app counts them."""
    return render_template(
        "deadlines/rules.html",
        rules=all_rules(),
        labels=CASE_TYPES,
        triggers=TRIGGERS,
        units=TERM_UNITS,
    )


@bp.route("/admin/deadline-rules/new", methods=["GET", "POST"])
@bp.route("/admin/deadline-rules/<int:rule_id>", methods=["GET", "POST"])
@roles(ADMIN)
def edit_rule(rule_id: int | None = None):
    """Add or change a deadline rule; open deadlines still ahead follow the change."""
    rule = (db.session.get(DeadlineRule, rule_id) or abort(404)) if rule_id else None
    form = RuleForm(obj=rule)
    if form.validate_on_submit():
        save_rule(rule, form.rule_data(), by=current_user)
        db.session.commit()
        flash(_("Rule saved."), "success")
        return redirect(url_for("deadlines.list_rules"))
    return render_template("deadlines/rule_form.html", form=form, rule=rule), (form_status(form))


@bp.route("/admin/calendar", methods=["GET", "POST"])
@roles(ADMIN)
def working_calendar():
    """Public holidays and moved working days, by year."""
    year = request.args.get("year", dates.today().year, type=int)
    year = min(max(year, CASE_DATES_FROM.year), CASE_DATES_TO.year)
    form = CalendarDayForm()
    if form.validate_on_submit():
        try:
            add_calendar_day(
                form.day.data,
                form.kind.data == "working",
                form.note.data,
                by=current_user,
                region=form.region.data or None,
            )
        except RuleViolation as refusal:
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Calendar saved; deadlines ahead were counted again."), "success")
            return redirect(url_for("deadlines.working_calendar", year=form.day.data.year))
    return render_template(
        "deadlines/calendar.html",
        form=form,
        days=calendar_days(year),
        library=library_year(year, str(get_locale() or "ru")),
        is_known=work_calendars().federal.is_known(year),
        year=year,
        regions=REGIONS,
        remove_form=BaseForm(formdata=None),
    ), form_status(form)


@bp.app_template_filter("day_span")
def day_span(span: tuple[date, date]) -> str:
    """ "2–4 May", or "1 May", in the reader's language."""
    first, last = span
    locale = get_locale() or "ru"
    if first == last:
        return babel_dates.format_skeleton("MMMMd", first, locale=locale)
    return babel_dates.format_interval(first, last, "MMMMd", locale=locale)


@bp.app_template_filter("span_days")
def span_days(span: tuple[date, date]) -> int:
    return (span[1] - span[0]).days + 1


@bp.route("/admin/calendar/<int:day_id>/remove", methods=["POST"])
@roles(ADMIN)
def remove_day(day_id: int):
    """Take a day out of the calendar."""
    entry = db.session.get(CalendarDay, day_id) or abort(404)
    if not BaseForm().validate_on_submit():
        abort(400)
    year = entry.day.year
    remove_calendar_day(entry, by=current_user)
    db.session.commit()
    flash(_("Calendar saved; deadlines ahead were counted again."), "success")
    return redirect(url_for("deadlines.working_calendar", year=year))
