from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.cases.models import CASE_TYPES
from app.extensions import db
from app.models_base import CreatedAtMixin, check_in


class Benchmark(CreatedAtMixin, db.Model):
    """A published success rate the group compares itself with: data an admin keeps, not code.
    At most one per case type."""

    __tablename__ = "benchmarks"
    __audited__ = True
    __table_args__ = (
        sa.CheckConstraint(check_in("case_type", CASE_TYPES), name="case_type"),
        sa.CheckConstraint("0 <= low AND low <= high AND high <= 1", name="range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_type: Mapped[str] = mapped_column(sa.String(32), unique=True)
    low: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    high: Mapped[Decimal] = mapped_column(sa.Numeric(5, 4))
    publication: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str] = mapped_column(sa.String(300))
    year: Mapped[int]
    quote: Mapped[str] = mapped_column(sa.Text)

    @property
    def bounds(self) -> tuple[float, float]:
        return float(self.low), float(self.high)

    @property
    def language(self) -> str:
        """The language the source is quoted in, for the page's lang attribute."""
        cyrillic = any("\u0400" <= c <= "\u04ff" for c in self.quote + self.title)
        return "ru" if cyrillic else "en"

    @property
    def source(self) -> str:
        """The citation, as the report's benchmark_source column gives it."""
        return f"{self.publication}, “{self.title}”, {self.year}: “{self.quote}”"
