from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise

from babel import Locale
from babel.numbers import format_percent
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from app import catalogue, dates
from app.access import ADMIN, EVERYONE, STAFF, roles
from app.auth.queries import all_users
from app.cases.models import CASE_TYPES
from app.clients.countries import country_name
from app.deadlines.queries import workload
from app.errors import RuleViolation
from app.extensions import db
from app.forms_base import form_status, show_refusal
from app.rendered import remembered_body
from app.reports import charts, metrics
from app.reports.context import FIGURES
from app.reports.forms import BenchmarkForm, report_filter_form
from app.reports.metrics import MIN_DECIDED, rounded
from app.reports.models import Benchmark
from app.reports.queries import (
    AGE_BUCKETS,
    benchmarks,
    breakdown,
    open_case_ages,
    quarterly,
    report_rows,
)
from app.reports.services import create_benchmark, update_benchmark

bp = Blueprint("reports", __name__)
DASHBOARD, SUMMARY = "reports/dashboard.html", "reports/summary.html"


@bp.app_template_filter("num")
def num(value: int) -> str:
    """A count with the language's digit grouping ("1,167", "1 167")."""
    return catalogue.format_number(value)


@bp.app_template_filter("pct")
def pct(value: Fraction | float | None) -> str:
    """A rate as a percentage in the interface language, to a tenth at most, a half rounded up
    ("86%", "90.2 %"; 92.25% → "92.3%")."""
    return _percent(value, get_locale())


@lru_cache(maxsize=4096)  # the same rate in the same language is the same text, for anyone
def _percent(value: Fraction | float | None, locale: Locale) -> str:
    return "—" if value is None else format_percent(rounded(value, 3), "#,##0.#%", locale=locale)


def _presets(today: date) -> list[tuple[str, dict]]:
    kept = {k: v for k, v in request.args.items() if k not in ("from", "to")}
    year_start, a_year_ago = date(today.year, 1, 1), today - timedelta(days=364)
    month_start = today.replace(day=1)
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return [
        (_("This month"), {**kept, "from": month_start.isoformat(), "to": today.isoformat()}),
        (_("This quarter"), {**kept, "from": quarter_start.isoformat(), "to": today.isoformat()}),
        (_("This year"), {**kept, "from": year_start.isoformat(), "to": today.isoformat()}),
        (_("Last 12 months"), {**kept, "from": a_year_ago.isoformat(), "to": today.isoformat()}),
        (_("All time"), kept),
    ]


def _rate_text(row, label: str) -> str:
    if not row.shows_rate:
        return ngettext(
            "%(label)s: fewer than %(num)d decided case",
            "%(label)s: fewer than %(num)d decided cases",
            MIN_DECIDED,
            label=label,
        )
    low, high = row.interval
    return _(
        "%(label)s: %(rate)s (95%% CI %(low)s–%(high)s)",
        label=label,
        rate=pct(row.rate),
        low=pct(low),
        high=pct(high),
    )


def _dashboard(template: str):
    """The dashboard (or a user's summary): its body rendered again only when something it
    shows changed (app/rendered.py); the page around it is made for each request."""
    body, status = remembered_body(template, lambda: _body(template, dates.today()))
    return render_template(template, body=body), status


def _body(template: str, today: date) -> tuple[str, int]:
    """The body of ``template`` (its ``_``-partial), and the status its filters give."""
    visible_to = current_user if template == SUMMARY else None
    extra = {"workload": workload(today)} if template == DASHBOARD else {}
    users = [visible_to] if visible_to is not None else all_users()
    form = report_filter_form(request.args, visible_to, users)
    period, filters = form.period(), form.report_filters(visible_to=visible_to)
    rows, known = report_rows(period, filters)
    labels = {k: str(v) for k, v in CASE_TYPES.items()} | {"all": _("all case types")}
    quarters = quarterly(period, filters)
    ages = open_case_ages(period, filters, today)
    age_labels = [
        ngettext("under %(num)d day", "under %(num)d days", AGE_BUCKETS[0]),
        *(
            ngettext("%(a)d–%(num)d day", "%(a)d–%(num)d days", b - 1, a=a)
            for a, b in pairwise(AGE_BUCKETS)
        ),
        _("a year or more"),
    ]
    emails = {u.id: u.email for u in users}
    context = {
        "form": form,
        "rows": rows,
        "benchmarks": known,
        "labels": labels,
        "presets": _presets(today),
        "download": url_for("exports.report_csv", **request.args),
        "rate_chart": charts.rate_chart(
            rows[:-1],
            labels,
            _("Success rate by case type, with the published benchmark"),
            "; ".join(_rate_text(r, labels[r.key]) for r in rows[:-1]),
            ngettext("fewer than %(num)d decided", "fewer than %(num)d decided", MIN_DECIDED),
        ),
        "quarters": quarters,
        "quarter_chart": charts.quarter_chart(
            quarters,
            _("Cases opened and success rate by quarter"),
            "; ".join(
                _("%(q)s: opened %(n)d, decided %(d)d, successful %(s)d", q=q, n=n, s=s, d=d)
                for q, n, d, s in quarters
            ),
        ),
        "ages": list(zip(age_labels, ages, strict=True)),
        "age_chart": charts.bar_chart(
            list(zip(age_labels, ages, strict=True)),
            _("Open cases by age"),
            "; ".join(f"{label}: {n}" for label, n in zip(age_labels, ages, strict=True)),
        ),
        "by_region": [(r.key, r) for r in breakdown(period, filters, "region")],
        "by_citizenship": [
            (country_name(r.key, str(get_locale())), r)
            for r in breakdown(period, filters, "citizenship")
        ],
        "by_volunteer": [
            (emails.get(int(r.key), _("nobody")) if r.key else _("nobody"), r)
            for r in breakdown(period, filters, "assigned_to")
        ],
        "figures": FIGURES,
        "min_decided": MIN_DECIDED,
        **extra,
    }
    partial = template.replace("reports/", "reports/_")
    return render_template(partial, **context), form_status(form)


@bp.context_processor
def comparison_codes() -> dict:
    """The comparison codes (``metrics.BELOW``…), so that the report's sentences test them by
    name and never spell them again."""
    return {"comparisons": metrics}


@bp.route("/dashboard")
@roles(*STAFF)
def dashboard():
    """The organisation's outcomes next to the published benchmarks, and who carries what."""
    return _dashboard(DASHBOARD)


@bp.route("/summary")
@roles(*EVERYONE)
def summary():
    """A user's own cases: the same figures, over only the cases they can see."""
    return _dashboard(SUMMARY)


@bp.route("/admin/benchmarks")
@roles(ADMIN)
def list_benchmarks():
    """The published rates the dashboard compares with."""
    return render_template("reports/benchmarks.html", benchmarks=benchmarks(), labels=CASE_TYPES)


def _save_benchmark(form, write, message):
    try:
        write()
    except RuleViolation as refusal:
        show_refusal(form, refusal)
        return None
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("reports.list_benchmarks"))


@bp.route("/admin/benchmarks/new", methods=["GET", "POST"])
@roles(ADMIN)
def new_benchmark():
    """Add a benchmark for a case type that has none."""
    free = [t for t in CASE_TYPES if t not in benchmarks()]
    form = BenchmarkForm(case_types=free)
    if form.validate_on_submit() and (
        done := _save_benchmark(
            form,
            lambda: create_benchmark(form.benchmark_data(), by=current_user),
            _("Benchmark added."),
        )
    ):
        return done
    return render_template("reports/benchmark_form.html", form=form, benchmark=None), (
        form_status(form)
    )


@bp.route("/admin/benchmarks/<int:benchmark_id>", methods=["GET", "POST"])
@roles(ADMIN)
def edit_benchmark(benchmark_id: int):
    """Correct a benchmark or its source."""
    benchmark = db.session.get(Benchmark, benchmark_id) or abort(404)
    form = BenchmarkForm(obj=benchmark, case_types=[benchmark.case_type])
    if request.method == "GET":  # stored as fractions, shown as percentages
        form.low.data, form.high.data = benchmark.low * 100, benchmark.high * 100
    if form.validate_on_submit() and (
        done := _save_benchmark(
            form,
            lambda: update_benchmark(benchmark, form.benchmark_data(), by=current_user),
            _("Benchmark saved."),
        )
    ):
        return done
    return render_template("reports/benchmark_form.html", form=form, benchmark=benchmark), (
        form_status(form)
    )
