"""Charts drawn as SVG by the server: no JavaScript library, nothing fetched from anywhere.

Each chart carries a <title> and a <desc> (its text alternative); the page puts a table with
the same numbers beside it. Colours come from classes in app.css, since the page's
Content-Security-Policy allows no inline style.
"""

from fractions import Fraction
from itertools import count

from markupsafe import Markup, escape

from app.reports.metrics import MIN_DECIDED, Summary

WIDTH = 640
LABEL = 200  # room for the row labels on the left
_ids = count(1)


def _el(tag: str, text=None, **attrs) -> str:
    """One SVG element; numbers are rounded to a tenth, text is escaped."""
    rendered = " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{value:.1f}"'
        if isinstance(value, float)
        else f'{name.rstrip("_").replace("_", "-")}="{escape(value)}"'
        for name, value in attrs.items()
    )
    return f"<{tag} {rendered}/>" if text is None else f"<{tag} {rendered}>{escape(text)}</{tag}>"


def _svg(height: int, title: str, description: str, body: list[str]) -> Markup:
    n = next(_ids)
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="chart{n}-title chart{n}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart{n}-title">{escape(title)}</title>'
        f'<desc id="chart{n}-desc">{escape(description)}</desc>{"".join(body)}</svg>'
    )


def _x(rate: Fraction | float) -> float:
    return LABEL + float(rate) * (WIDTH - LABEL - 20)


def rate_chart(
    rows: list[Summary], labels: dict, title: str, description: str, too_few: str
) -> Markup:
    """Per row: the benchmark band shaded, the rate as a dot with its interval as a bar."""
    row_height, top = 34, 10
    height = top + row_height * len(rows) + 30
    body = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = _x(tick)
        body.append(_el("line", class_="grid", x1=x, y1=top, x2=x, y2=height - 20))
        body.append(
            _el("text", f"{tick:.0%}", class_="tick", x=x, y=height - 5, text_anchor="middle")
        )
    for i, row in enumerate(rows):
        y = top + i * row_height + row_height / 2
        body.append(
            _el("text", labels[row.key], class_="label", x=LABEL - 8, y=y + 4, text_anchor="end")
        )
        if row.benchmark_low is not None:
            x1, x2 = _x(row.benchmark_low), _x(row.benchmark_high)
            body.append(
                _el("rect", class_="band", x=x1 - 2, y=y - 12, width=x2 - x1 + 4, height=24)
            )
        if row.shows_rate:
            low, high = row.interval
            body.append(_el("line", class_="interval", x1=_x(low), y1=y, x2=_x(high), y2=y))
            body.append(_el("circle", class_="rate", cx=_x(row.rate), cy=y, r=5))
        else:
            body.append(_el("text", too_few, class_="note", x=_x(0) + 6, y=y + 4))
    return _svg(height, title, description, body)


def bar_chart(bars: list[tuple[str, int]], title: str, description: str) -> Markup:
    """Horizontal bars with their values (e.g. open cases by age)."""
    row_height, top = 30, 10
    height = top + row_height * len(bars) + 10
    biggest = max((n for _, n in bars), default=0) or 1
    body = []
    for i, (label, n) in enumerate(bars):
        y = top + i * row_height
        width = (WIDTH - LABEL - 60) * n / biggest
        body.append(_el("text", label, class_="label", x=LABEL - 8, y=y + 17, text_anchor="end"))
        body.append(_el("rect", class_="bar", x=LABEL, y=y + 4, width=float(width), height=18))
        body.append(_el("text", str(n), class_="value", x=LABEL + width + 6, y=y + 17))
    return _svg(height, title, description, body)


def quarter_chart(
    quarters: list[tuple[str, int, int, int]], title: str, description: str
) -> Markup:
    """Columns: cases opened per quarter; dots: the success rate of the quarter's decided cases
    (only where at least MIN_DECIDED were decided)."""
    if not quarters:
        return _svg(60, title, description, [])
    height, top, bottom, left, right = 240, 20, 200, 40, WIDTH - 40
    step = (right - left) / len(quarters)
    most = max(q[1] for q in quarters) or 1
    body = [
        _el("line", class_="grid", x1=left, y1=bottom, x2=right, y2=bottom),
        _el("text", str(most), class_="tick", x=left - 4, y=top + 4, text_anchor="end"),
        _el("text", "100%", class_="tick", x=right + 4, y=top + 4),
        _el("text", "0%", class_="tick", x=right + 4, y=bottom),
    ]
    for i, (label, opened, decided, successful) in enumerate(quarters):
        x = left + i * step
        h = (bottom - top) * opened / most
        body.append(
            _el(
                "rect",
                class_="bar",
                x=x + step * 0.15,
                y=bottom - h,
                width=step * 0.7,
                height=float(h),
            )
        )
        if decided >= MIN_DECIDED:
            y = bottom - (bottom - top) * successful / decided
            body.append(_el("circle", class_="rate", cx=x + step / 2, cy=float(y), r=4))
        if len(quarters) <= 12 or i % 2 == 0:
            body.append(
                _el(
                    "text",
                    label,
                    class_="tick",
                    x=x + step / 2,
                    y=bottom + 16,
                    text_anchor="middle",
                )
            )
    return _svg(height, title, description, body)
