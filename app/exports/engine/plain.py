"""The plain path of the cases export: the models' rows, their sealed texts opened by the
models themselves, through the one CSV writer (``app.csvfiles``). Nothing here is tuned; the
fast path must write what this writes, byte for byte (tests/exports/test_engine.py)."""

from collections.abc import Iterator

from app.auth.models import User
from app.csvfiles import rows_text, text_of
from app.exports.queries import cases_to_export
from app.extensions import db

BATCH = 500


def written_plainly(
    filters: dict, viewer: User | None, identified: bool
) -> Iterator[tuple[int, bytes]]:
    """(rows, lines) of the cases export, a batch at a time, in UTF-8."""
    result = db.session.execute(cases_to_export(filters, viewer).execution_options(yield_per=BATCH))
    try:
        for batch in result.partitions():
            rows = [
                [
                    text_of(value)
                    for value in (
                        case.reference,
                        case.case_type,
                        case.opened_on,
                        case.region,
                        client.full_name if identified else client.pseudonym,
                        client.citizenship,
                        email,
                        case.outcome,
                        case.closed_on,
                        next_deadline,
                        case.summary,
                    )
                ]
                for case, client, email, next_deadline in batch
            ]
            yield len(rows), rows_text(rows).encode()
    finally:
        result.close()
