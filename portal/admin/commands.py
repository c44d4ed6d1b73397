"""The database and the chain from the command line: ``init-db``, ``rebuild-rollups``,
``backup``, ``restore``, ``create-store``, ``create-staff`` and ``import-staff``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Engine, select

from portal.admin.operations import create_staff, create_store, get_store, import_staff
from portal.audit import CLI
from portal.backup import BackupError, backup, holds_data, restore
from portal.commands import transaction
from portal.db import utcnow
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
    """Create or update staff from a CSV file (store_code, staff_code, name, position[, active])."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not UTF-8 text.") from None
    with transaction() as session:
        result = import_staff(session, text, actor=CLI, now=utcnow())
    click.echo(f"Imported staff: {result.created} created, {result.updated} updated.")
