"""The life of a case, through the service functions every entry point uses."""

from datetime import date

import pytest
import sqlalchemy as sa

from app.cases.models import DECIDED, OUTCOMES, SUCCESSFUL, Case, TimelineEntry
from app.cases.services import (
    add_deadline,
    add_timeline_entry,
    close_case,
    open_case,
    reopen_case,
    update_case,
)
from app.crypto import unseal
from app.errors import RuleViolation
from app.extensions import db

pytestmark = pytest.mark.usefixtures("ctx")

DEPORTATION = {
    "case_type": "deportation_challenge",
    "opened_on": date(2025, 3, 3),
    "region": "Москва",
    "offence_article": "КоАП 18.8 ч. 3.1",
    "ruling_on": date(2025, 3, 1),
    "ruling_received_on": date(2025, 3, 2),
}


def test_open_case_gives_a_random_reference_and_keeps_the_fields(make):
    user = make.user()
    client = make.client(by=user)
    case = open_case(client, DEPORTATION, by=user)
    other = open_case(client, DEPORTATION, by=user)
    assert case.reference.startswith("HQ-") and len(case.reference) == 12
    assert case.reference != other.reference
    assert case.is_open and case.outcome is None and case.closed_on is None
    assert case.created_by_id == user.id and case.assigned_to_id is None
    assert (case.offence_article, case.ruling_received_on) == ("КоАП 18.8 ч. 3.1", date(2025, 3, 2))


def test_fields_of_another_case_type_are_cleared(make):
    case = open_case(make.client(), DEPORTATION, by=None)
    update_case(case, {"case_type": "school_refusal", "school_name": "Школа № 5"}, by=None)
    assert case.offence_article is None and case.ruling_on is None
    assert case.school_name == "Школа № 5"


def test_unknown_case_type_is_refused(make):
    with pytest.raises(RuleViolation):
        open_case(make.client(), {**DEPORTATION, "case_type": "smuggling"}, by=None)


def test_close_records_outcome_date_and_a_timeline_entry(make):
    case = make.case(opened_on=date(2025, 1, 10))
    close_case(case, "partial", date(2025, 2, 1), by=None, note="Выдворение заменено штрафом")
    assert (case.outcome, case.closed_on, case.is_open) == ("partial", date(2025, 2, 1), False)
    closing = case.entries[-1]
    assert (closing.kind, closing.outcome, closing.body) == (
        "closed",
        "partial",
        "Выдворение заменено штрафом",
    )


def test_close_before_opening_is_refused(make):
    case = make.case(opened_on=date(2025, 1, 10))
    with pytest.raises(RuleViolation) as refused:
        close_case(case, "success", date(2025, 1, 9), by=None)
    assert refused.value.field == "closed_on"
    assert case.is_open


def test_closing_on_the_opening_day_is_allowed(make):
    case = make.case(opened_on=date(2025, 1, 10))
    close_case(case, "failure", date(2025, 1, 10), by=None)
    assert case.closed_on == case.opened_on


@pytest.mark.parametrize("outcome", ["won", "", "SUCCESS", None])
def test_outcome_must_be_one_of_the_spec_codes(make, outcome):
    case = make.case()
    with pytest.raises(RuleViolation):
        close_case(case, outcome, date(2025, 6, 1), by=None)
    assert case.is_open


def test_a_closed_case_cannot_be_closed_again(make):
    case = make.case(outcome="success", closed_on=date(2025, 4, 1))
    case = db.session.get(Case, case.id)
    with pytest.raises(RuleViolation):
        close_case(case, "failure", date(2025, 5, 1), by=None)
    assert (case.outcome, case.closed_on) == ("success", date(2025, 4, 1))


def test_reopen_clears_the_outcome_and_the_timeline_remembers_it(make):
    user = make.user()
    case = db.session.get(Case, make.case(outcome="failure", closed_on=date(2025, 4, 1)).id)
    reopen_case(case, by=user, on=date(2025, 5, 2), note="Новые документы")
    assert case.is_open and case.outcome is None and case.closed_on is None
    kinds = [(e.kind, e.outcome) for e in case.entries]
    assert kinds == [("closed", "failure"), ("reopened", "failure")]
    assert case.entries[-1].created_by_id == user.id


def test_an_open_case_cannot_be_reopened(make):
    with pytest.raises(RuleViolation):
        reopen_case(make.case(), by=None)


def test_opened_on_cannot_move_after_the_closing_date(make):
    case = db.session.get(Case, make.case(outcome="success", closed_on=date(2025, 4, 1)).id)
    with pytest.raises(RuleViolation) as refused:
        update_case(case, {"opened_on": date(2025, 4, 2)}, by=None)
    assert refused.value.field == "opened_on"


def test_timeline_is_in_date_order_whatever_order_entries_were_added(make):
    case = make.case()
    add_timeline_entry(case, "hearing", date(2025, 5, 20), "Заседание", by=None)
    add_timeline_entry(case, "filing", date(2025, 3, 5), "Жалоба подана", by=None)
    add_timeline_entry(case, "note", date(2025, 4, 1), "Звонок", by=None)
    db.session.expire(case, ["entries"])
    assert [e.kind for e in case.entries] == ["filing", "note", "hearing"]


def test_database_refuses_an_outcome_without_a_date(make):
    case = make.case()
    # Straight to the connection: the ORM refuses bulk updates of audited tables.
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.connection().execute(
            sa.update(Case.__table__)
            .where(Case.__table__.c.id == case.id)
            .values(outcome="success")
        )


def test_database_refuses_closing_before_opening(make):
    case = make.case(opened_on=date(2025, 1, 10))
    # Straight to the connection: the ORM refuses bulk updates of audited tables.
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.connection().execute(
            sa.update(Case.__table__)
            .where(Case.__table__.c.id == case.id)
            .values(outcome="success", closed_on=date(2025, 1, 1))
        )


def test_open_decided_and_successful_agree_in_python_and_sql(make):
    """Each rule is written once (hybrid properties), so counting in SQL matches Python."""
    for i, outcome in enumerate([None, *OUTCOMES, "success", None]):
        make.case(outcome=outcome, closed_on=date(2025, 6, 1 + i) if outcome else None)
    cases = db.session.execute(sa.select(Case)).scalars().all()
    for rule in ("is_open", "is_decided", "is_successful"):
        in_sql = db.session.execute(
            sa.select(sa.func.count()).select_from(Case).where(getattr(Case, rule))
        ).scalar()
        assert in_sql == sum(bool(getattr(c, rule)) for c in cases), rule
    assert sum(c.is_decided for c in cases) == sum(c.outcome in DECIDED for c in cases) == 4
    assert sum(c.is_successful for c in cases) == sum(c.outcome in SUCCESSFUL for c in cases) == 3


def test_deleting_a_case_takes_its_timeline_with_it(make):
    case = make.case(outcome="success", closed_on=date(2025, 6, 1))
    case = db.session.get(Case, case.id)
    db.session.delete(case)
    db.session.flush()
    left = db.session.execute(sa.select(sa.func.count()).select_from(TimelineEntry)).scalar()
    assert left == 0


def test_a_case_given_to_another_client_is_sealed_again_with_their_key(make):
    """(A CSV import that names another client moves the case.) Every text of the case, its
    timeline and its deadlines reads the same afterwards, sealed with the new client's key."""
    first, second = make.client(), make.client()
    case = open_case(first, {**DEPORTATION, "authority": "Мещанский суд"}, by=None)
    case.summary = "Задержан у метро"
    add_timeline_entry(case, "note", date(2025, 3, 4), "Звонил брат", by=None)
    add_deadline(case, date(2025, 4, 1), "Ходатайство", by=None, legal_basis="по указанию суда")
    before = _texts(case)
    case.reseal_for(second)
    db.session.flush()
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.client_id == second.id and _texts(case) == before
    assert unseal(second.sealing_key(), case._authority, "cases.authority." + case.reference)


def _texts(case: Case) -> list:
    rows = (case, *case.entries, *case.deadlines)
    return [getattr(row, name) for row in rows for name in row.SEALED_TEXTS]
