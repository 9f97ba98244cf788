"""The reference for the bulk import (app/imports/bulk.py): each row applied through the
service functions the forms use, one at a time, as imports were applied before. Too slow for
real files (about 70 rows/s); kept only so that tests can show the bulk path writes exactly
what this writes. Not a production path: nothing in app/ calls it."""

from flask_babel import gettext as _

from app.audit.services import acting, record_event
from app.cases.models import Case
from app.cases.services import add_deadline, close_case, open_case, reopen_case, update_case
from app.clients.matching import same_name_key
from app.clients.models import Client
from app.clients.services import create_client, update_client
from app.extensions import db
from app.imports.services import ImportPlan


def run_import_one_by_one(plan: ImportPlan, by) -> dict:
    """What ``app.imports.services.run_import`` does, row by row through the services."""
    if not plan.ok:
        raise ValueError("a plan with errors cannot be applied")
    acting(by)
    clients: dict[tuple, Client] = {}
    for row in plan.rows:
        if row.action != "unchanged":
            _apply_row(row, clients, by)
    totals = {
        "created": plan.count("create"),
        "updated": plan.count("update"),
        "unchanged": plan.count("unchanged"),
        "new_clients": len(clients),
    }
    acting(by)
    record_event("import", "cases", {key: [None, n] for key, n in totals.items()})
    return totals


def _client(row, clients: dict, by) -> Client:
    if row.client_id is not None:
        client = db.session.get(Client, row.client_id)
        if row.citizenship != client.citizenship:
            update_client(client, {"citizenship": row.citizenship}, by=by)
        return client
    key = (same_name_key(row.client_name), row.citizenship)
    if key not in clients:
        clients[key] = create_client(
            {"full_name": row.client_name, "citizenship": row.citizenship}, by=by
        )
    return clients[key]


def _apply_row(row, clients: dict, by) -> None:
    values = row.values
    client = _client(row, clients, by)
    fields = {
        k: values[k] for k in ("case_type", "opened_on", "region", "summary", "assigned_to_id")
    }
    if row.action == "create":
        case = open_case(client, {**fields, "reference": row.reference}, by=by)
    else:
        case = db.session.get(Case, row.case_id)
        if not case.is_open and (case.outcome, case.closed_on) != (
            values["outcome"],
            values["closed_on"],
        ):
            reopen_case(case, by=by, note=_("Changed by a CSV import."))
        if case.client_id != client.id:  # the row names another client: sealed with their key
            case.reseal_for(client)
        update_case(case, fields, by=by)
    if values["outcome"] and case.is_open:
        close_case(case, values["outcome"], values["closed_on"], by=by)
    if values["next_deadline"] and (row.action == "create" or "next_deadline" in row.changes):
        add_deadline(case, values["next_deadline"], _("Next deadline (imported)"), by=by)
