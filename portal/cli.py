"""Command-line interface: ``flask --app portal <command>`` (or the ``portal`` script).

The commands live in the ``commands.py`` of the area that owns their operation, named as
DESIGN.md section 4 names them; this module only lists them for `create_app` to register.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import Engine

from portal.admin.commands import (
    create_staff_command,
    create_store_command,
    import_staff_command,
    init_db,
    rebuild_rollups_command,
)
from portal.api_tokens.commands import create_api_token_command
from portal.auth.commands import create_user_command
from portal.awards.commands import award_cycle_command, verify_awards_command
from portal.cases.commands import overdue_command, send_mail_command
from portal.commands import transaction
from portal.config import current_settings
from portal.db import utcnow
from portal.hr.commands import rank_command
from portal.mystery.commands import finalise_visits_command
from portal.pos_api.commands import (
    create_api_key_command,
    issue_receipts_command,
    list_api_keys_command,
    revoke_api_key_command,
)
from portal.schema import upgrade_database
from portal.validation_codes.commands import check_code_command


@click.command("demo")
@click.option("--reset", is_flag=True, help="Delete the SQLite database and build it again.")
@click.option("--responses", default=45_000, show_default=True, type=click.IntRange(100, 2_000_000))
@click.option("--days", default=120, show_default=True, type=click.IntRange(7, 730))
@with_appcontext
def demo_command(reset: bool, responses: int, days: int) -> None:
    """Build a realistic demo chain, then print the URL and the demo logins."""
    # Imported here: portal.demo imports ROOT from portal, whose __init__ imports this module.
    from portal.demo import build_demo, demo_exists, demo_logins

    bind = current_app.extensions["portal.db"][0]
    photo_folder = current_settings().photo_folder
    if reset:
        _reset_sqlite(bind)
        # The receipt photos belong to the deleted database's visits.
        shutil.rmtree(photo_folder, ignore_errors=True)
    upgrade_database(bind)
    with transaction() as session:
        exists = demo_exists(session)
        if not exists:
            started = time.perf_counter()
            with click.progressbar(length=100, label="Building the demo chain") as bar:
                summary = build_demo(
                    session,
                    current_settings(),
                    now=utcnow(),
                    days=days,
                    responses=responses,
                    progress=bar.update,
                    photo_folder=photo_folder,
                )
    if exists:
        click.echo("The demo chain already exists (use --reset to build it again).")
    else:
        click.echo(
            f"Built {summary.stores} stores, {summary.staff} staff, "
            f"{summary.receipts} receipts, {summary.responses} responses and "
            f"{summary.cases} cases over {summary.days} days "
            f"in {time.perf_counter() - started:.0f} s."
        )
        click.echo(summary.mystery.line())
        click.echo(
            f"service-star awards: {summary.awards.final_month:%Y-%m} final, "
            f"{summary.awards.review_month:%Y-%m} in HR review "
            f"({summary.awards.nominations} nominations, {summary.awards.decided} decided)"
        )
    click.echo(
        f"\nPortal: {current_settings().base_url}/   "
        f"(receipt code entry: {current_settings().base_url}/r)"
    )
    click.echo("Demo logins:")
    for login in demo_logins():
        click.echo(f"  {login.role:<9} {login.email:<26} {login.password}   {login.note}")


def _reset_sqlite(bind: Any) -> None:
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        raise click.ClickException("--reset only deletes a SQLite database; drop others yourself.")
    bind.dispose()
    path = bind.url.database
    if path:
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)


COMMANDS = (
    init_db,
    create_store_command,
    create_staff_command,
    import_staff_command,
    create_user_command,
    create_api_key_command,
    create_api_token_command,
    list_api_keys_command,
    revoke_api_key_command,
    issue_receipts_command,
    check_code_command,
    demo_command,
    rebuild_rollups_command,
    overdue_command,
    send_mail_command,
    finalise_visits_command,
    award_cycle_command,
    verify_awards_command,
    rank_command,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def main() -> None:
    """The ``portal`` console script: the same commands as ``flask --app portal``."""
    # Imported here: portal/__init__.py imports this module to register the commands.
    from portal import create_app

    FlaskGroup(create_app=lambda: create_app())()
