from pathlib import Path

import click

from app.cases.cli import cases_cli
from app.extensions import db
from app.imports.services import plan_import, run_import


@cases_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change.")
def import_command(file: Path, dry_run: bool) -> None:
    """Import cases from a CSV file (SPEC's columns); one bad row refuses the whole file."""
    plan = plan_import(file.read_bytes())
    if not plan.ok:
        for problem in plan.errors:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(plan.errors)} problems; nothing was imported.")
    summary = (
        f"{plan.count('create')} cases to create, {plan.count('update')} to update, "
        f"{plan.count('unchanged')} unchanged, {plan.new_clients} new clients."
    )
    if dry_run:
        click.echo(f"Dry run: {summary} Nothing was written.")
        return
    try:
        totals = run_import(plan, by=None)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(
        f"Imported: {totals['created']} created, {totals['updated']} updated, "
        f"{totals['unchanged']} unchanged, {totals['new_clients']} new clients."
    )
