"""A state machine over the life of cases — open, edit, close, reopen, export, import — checked
against a plain model after every step: the dashboard's counts, the export's rows and the audit
trail's writes all agree with it."""

from datetime import date

import sqlalchemy as sa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from app.audit.models import AuditEvent
from app.cases.models import DECIDED, OUTCOMES, Case
from app.cases.services import close_case, open_case, reopen_case, update_case
from app.clients.services import create_client
from app.exports.services import export_cases
from app.extensions import db
from app.imports.services import plan_import, run_import
from app.reports.queries import Filters, Period, report_rows

REGIONS = ("Москва", "Казань", "Тюмень")


def audited_case_writes():
    """Audit events of changes to cases (exports are audited too, as reads, and not counted)."""
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity == "cases", AuditEvent.action.not_like("export%"))
    ).scalar()


def exported_lines():
    return b"".join(export_cases({}, None, False, by=None)).decode().splitlines()


def pick(data, case_ids):
    """One of ``case_ids``, drawn by position so that replaying an example picks the same one
    even though the database has handed out different ids."""
    ordered = sorted(case_ids)
    return ordered[data.draw(st.integers(0, len(ordered) - 1))]


def make_machine(coordinator):
    class CaseLife(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.model: dict[int, dict] = {}  # case id → {"outcome": …, "region": …}
            # Every example shares one database: what earlier examples left is the baseline,
            # and this example's cases are counted on top of it.
            self.writes = audited_case_writes()
            self.before = report_rows(Period(), Filters())[0][-1].counts
            self.exported_before = len(exported_lines())

        @rule(region=st.sampled_from(REGIONS))
        def open(self, region):
            client = create_client(
                {"full_name": "Машина Тест", "citizenship": "KG"}, by=coordinator
            )
            case = open_case(
                client,
                {"case_type": "other", "opened_on": date(2025, 1, 1), "region": region},
                by=coordinator,
            )
            db.session.commit()
            self.model[case.id] = {"outcome": None, "region": region}
            self.writes += 1

        @precondition(lambda self: self.model)
        @rule(data=st.data(), region=st.sampled_from(REGIONS))
        def edit(self, data, region):
            case_id = pick(data, self.model)
            case = db.session.get(Case, case_id)
            update_case(case, {"region": region}, by=coordinator, seen_version=case.version)
            db.session.commit()
            if self.model[case_id]["region"] != region:
                self.writes += 1
            self.model[case_id]["region"] = region

        @precondition(lambda self: any(c["outcome"] is None for c in self.model.values()))
        @rule(data=st.data(), outcome=st.sampled_from(list(OUTCOMES)))
        def close(self, data, outcome):
            case_id = pick(data, [k for k, c in self.model.items() if c["outcome"] is None])
            close_case(db.session.get(Case, case_id), outcome, date(2025, 2, 1), by=coordinator)
            db.session.commit()
            self.model[case_id]["outcome"] = outcome
            self.writes += 1

        @precondition(lambda self: any(c["outcome"] for c in self.model.values()))
        @rule(data=st.data())
        def reopen(self, data):
            case_id = pick(data, [k for k, c in self.model.items() if c["outcome"]])
            reopen_case(db.session.get(Case, case_id), by=coordinator, on=date(2025, 3, 1))
            db.session.commit()
            self.model[case_id]["outcome"] = None
            self.writes += 1

        @precondition(lambda self: self.model)
        @rule()
        def export_and_import_back(self):
            exported = b"".join(export_cases({}, None, True, by=None))
            plan = plan_import(exported)
            assert plan.ok and {r.action for r in plan.rows} <= {"unchanged"}
            run_import(plan, by=coordinator)
            db.session.commit()
            self.writes += 1  # the import's own record; its rows were unchanged, so no others

        @invariant()
        def dashboard_counts_equal_the_model(self):
            rows, _ = report_rows(Period(), Filters())
            now, before = rows[-1].counts, self.before
            outcomes = [c["outcome"] for c in self.model.values()]
            assert now.opened - before.opened == len(self.model)
            assert now.open - before.open == outcomes.count(None)
            assert now.decided - before.decided == sum(o in DECIDED for o in outcomes)
            assert now.withdrawn - before.withdrawn == outcomes.count("withdrawn")

        @invariant()
        def export_rows_equal_the_cases(self):
            assert len(exported_lines()) - self.exported_before == len(self.model)

        @invariant()
        def audit_rows_equal_the_writes(self):
            assert audited_case_writes() == self.writes

    return CaseLife


def test_case_lifecycle_machine(ctx, make):
    from hypothesis.stateful import run_state_machine_as_test

    coordinator = make.user("coordinator")
    machine = make_machine(coordinator)
    run_state_machine_as_test(
        machine, settings=settings(max_examples=10, stateful_step_count=12, deadline=None)
    )
