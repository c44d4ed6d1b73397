"""The database and the chain from the command line: ``init-db``, ``rebuild-rollups``,
``backup``, ``restore``, ``create-store``, ``create-staff``, ``import-staff``, and the privacy
jobs ``purge`` (for cron) and ``erase-customer``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Engine, select

from portal.admin.operations import create_staff, create_store, get_store, import_staff
from portal.admin.retention import compact_database, erase_customer, purge_expired
from portal.audit import CLI
from portal.backup import BackupError, backup, holds_data, restore
from portal.commands import transaction
from portal.config import current_settings
from portal.db import utcnow
from portal.jobs.operations import purge_finished_jobs
from portal.models import Response, StoreDailyRollup
from portal.rollups import rebuild_rollups
from portal.schema import upgrade_database


def _engine() -> Engine:
    bind = current_app.extensions["portal.db"][0]
    return bind if isinstance(bind, Engine) else bind.engine


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database to the latest schema (Alembic)."""
    upgrade_database(current_app.extensions["portal.db"][0])
    click.echo("Database is at the latest schema.")
    with transaction() as session:
        # Right after an upgrade that added a rollup grain, existing answers need counting.
        if session.scalar(select(Response.id).limit(1)) and not session.scalar(
            select(StoreDailyRollup.day).limit(1)
        ):
            click.echo(f"Counted existing answers into {rebuild_rollups(session)} rollup rows.")


@click.command("rebuild-rollups")
@click.option("--store", "store_codes", multiple=True, help="Only these stores; repeatable.")
@with_appcontext
def rebuild_rollups_command(store_codes: tuple[str, ...]) -> None:
    """Recompute the daily rollups from the raw receipts and responses."""
    with transaction() as session:
        ids = [get_store(session, code).id for code in store_codes] or None
        rows = rebuild_rollups(session, ids)
    click.echo(f"Rebuilt {rows} rollup rows.")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write the database and the mystery photos to FILE (.tar.gz); safe while serving."""
    photo_folder = current_app.config["PORTAL_SETTINGS"].photo_folder
    try:
        summary = backup(_engine(), photo_folder, file, now=utcnow())
    except BackupError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Backed up the {summary.dialect} database and {summary.photos} photos to {file}.")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Overwrite the current database and photos.")
@with_appcontext
def restore_command(file: Path, yes: bool) -> None:
    """Replace the database and the mystery photos with those of the backup FILE."""
    engine = _engine()
    photo_folder = current_app.config["PORTAL_SETTINGS"].photo_folder
    try:
        if not yes and holds_data(engine, photo_folder):
            raise click.ClickException(
                "The database or the photo folder is not empty; "
                "restoring replaces them: run again with --yes."
            )
        summary = restore(engine, photo_folder, file)
    except BackupError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(f"Restored the {summary.dialect} database and {summary.photos} photos from {file}.")


@click.command("create-store")
@click.argument("code")
@click.argument("name")
@click.option("--region", default="", help="Region, e.g. 华东.")
@click.option("--timezone", "timezone", default="Asia/Shanghai", show_default=True)
@with_appcontext
def create_store_command(code: str, name: str, region: str, timezone: str) -> None:
    """Add a store."""
    with transaction() as session:
        store = create_store(
            session,
            code=code,
            name=name,
            region=region,
            timezone=timezone,
            actor=CLI,
            now=utcnow(),
        )
    click.echo(f"Created store {store.code} ({store.name}).")


@click.command("create-staff")
@click.argument("store_code")
@click.argument("staff_code")
@click.argument("name")
@click.option("--position", default="")
@with_appcontext
def create_staff_command(store_code: str, staff_code: str, name: str, position: str) -> None:
    """Add a staff member to a store."""
    with transaction() as session:
        create_staff(
            session,
            store_code=store_code,
            staff_code=staff_code,
            name=name,
            position=position,
            actor=CLI,
            now=utcnow(),
        )
    click.echo(f"Created staff {staff_code} at {store_code}.")


@click.command("import-staff")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_staff_command(file: Path) -> None:
    """Create or update staff from a CSV (UTF-8) or XLSX file with the columns store_code,
    staff_code, name, position[, active]; all rows or none."""
    with transaction() as session:
        result = import_staff(session, file.read_bytes(), actor=CLI, now=utcnow())
    click.echo(
        f"Imported staff: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged."
    )


@click.command("purge")
@click.option("--vacuum", is_flag=True, help="Also rebuild the SQLite file (slow on big files).")
@with_appcontext
def purge_command(vacuum: bool) -> None:
    """Delete contact details past PORTAL_CONTACT_RETENTION_DAYS and comments past
    PORTAL_COMMENT_RETENTION_DAYS; scores and every figure stay. Run daily from cron."""
    settings = current_settings()
    with transaction() as session:
        removed = purge_expired(
            session,
            CLI,
            contact_days=settings.contact_retention_days,
            comment_days=settings.comment_retention_days,
            now=utcnow(),
        )
        jobs = purge_finished_jobs(session, now=utcnow(), days=settings.job_retention_days)
    compact_database(current_app.extensions["portal.db"][0], vacuum=vacuum)
    click.echo(
        f"Purged contact details of {removed.contacts} response(s) and "
        f"{removed.case_contacts} case(s), {removed.mails} mail(s), "
        f"{removed.texts} text message(s) "
        f"(older than {settings.contact_retention_days} days); comments of "
        f"{removed.comments} response(s), {removed.answer_texts} answer text(s), texts of "
        f"{removed.case_texts} case(s) and "
        f"{removed.notes} case note(s) (older than {settings.comment_retention_days} days)."
    )
    click.echo(
        f"Purged {jobs} finished job(s) and their files "
        f"(older than {settings.job_retention_days} days)."
    )


@click.command("erase-customer")
@click.option("--code", help="The short code of a receipt the customer answered.")
@click.option("--phone", help="A phone number the customer left.")
@click.option("--email", help="An e-mail address the customer left.")
@with_appcontext
def erase_customer_command(code: str | None, phone: str | None, email: str | None) -> None:
    """Erase one customer's contact details and comments everywhere (an erasure request);
    name them by exactly one of --code, --phone, --email."""
    with transaction() as session:
        removed = erase_customer(session, CLI, code=code, phone=phone, email=email, now=utcnow())
    compact_database(current_app.extensions["portal.db"][0])
    click.echo(
        f"Erased: {removed.contacts} contact(s), {removed.case_contacts} case contact(s), "
        f"{removed.comments} comment(s), {removed.answer_texts} answer text(s), "
        f"{removed.case_texts} case text(s), "
        f"{removed.notes} case note(s), {removed.mails} mail(s), "
        f"{removed.texts} text message(s)."
    )
