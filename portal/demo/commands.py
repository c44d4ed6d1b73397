"""``flask demo``: build the demo chain into the configured database (SQLite by default)
with a progress bar, then print what it made, the portal's URL and the demo logins. With
``--reset`` the SQLite file and the receipt photos go first. Registered by
``portal.cli.init_app``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Engine

from portal.commands import transaction
from portal.config import current_settings
from portal.db import utcnow
from portal.demo.assignment import DEMO_SHOPPER_EMAIL, assignment_to_try
from portal.demo.build import DemoSummary, build_demo
from portal.demo.chain import demo_exists, demo_logins, issue_receipt_to_try
from portal.models import MysteryVisit
from portal.receipts import survey_links
from portal.schema import upgrade_database
from surveys.codes import format_short_code


@click.command("demo")
@click.option("--reset", is_flag=True, help="Delete the SQLite database and build it again.")
@click.option("--responses", default=45_000, show_default=True, type=click.IntRange(100, 2_000_000))
@click.option("--days", default=120, show_default=True, type=click.IntRange(7, 730))
@with_appcontext
def demo_command(reset: bool, responses: int, days: int) -> None:
    """Build a realistic demo chain, then print the URL and the demo logins."""
    settings = current_settings()
    bind = current_app.extensions["portal.db"][0]
    if reset:
        _reset_sqlite(bind)
        # The receipt photos belong to the deleted database's visits.
        shutil.rmtree(settings.photo_folder, ignore_errors=True)
    upgrade_database(bind)
    summary = None
    with transaction() as session:
        if not demo_exists(session):
            started = time.perf_counter()
            with click.progressbar(length=100, label="Building the demo chain") as bar:
                summary = build_demo(
                    session,
                    settings,
                    now=utcnow(),
                    days=days,
                    responses=responses,
                    progress=bar.update,
                    photo_folder=settings.photo_folder,
                )
    with transaction() as session:
        to_try = issue_receipt_to_try(session, settings, now=utcnow())
        code = format_short_code(to_try.receipt.short_code)
        assignment = _assignment_line(assignment_to_try(session, settings, now=utcnow()))
    if summary is None:
        click.echo("The demo chain already exists (use --reset to build it again).")
    else:
        _echo_summary(summary, time.perf_counter() - started)
    click.echo(f"\nPortal: {settings.base_url}/   (receipt code entry: {settings.base_url}/r)")
    click.echo(
        f"Try the survey as a shopper: {survey_links(settings, to_try.token).survey_url}\n"
        f"  (or type the receipt code {code} at {settings.base_url}/r)"
    )
    click.echo(assignment)
    click.echo("Demo logins:")
    for login in demo_logins():
        click.echo(f"  {login.role:<9} {login.email:<26} {login.password}   {login.note}")


def _assignment_line(visit: MysteryVisit | None) -> str:
    if visit is None:
        return (
            f"No store is free for a new assignment of {DEMO_SHOPPER_EMAIL} today "
            "(demo --reset builds the chain again with one)."
        )
    return (
        f"Mystery shopper {DEMO_SHOPPER_EMAIL} has an assignment to accept: visit "
        f"#{visit.id} at {visit.store.code} {visit.store.name}, "
        f"{visit.window_start:%Y-%m-%d} to {visit.window_end:%Y-%m-%d}"
    )


def _echo_summary(summary: DemoSummary, seconds: float) -> None:
    click.echo(
        f"Built {summary.stores} stores, {summary.staff} staff, "
        f"{summary.receipts} receipts, {summary.responses} responses and "
        f"{summary.cases} cases over {summary.days} days in {seconds:.0f} s."
    )
    click.echo(summary.mystery.line())
    click.echo(
        f"service-star awards: {summary.awards.final_month:%Y-%m} final, "
        f"{summary.awards.review_month:%Y-%m} in HR review "
        f"({summary.awards.nominations} nominations, {summary.awards.decided} decided)"
    )
    channels = summary.channels
    click.echo(
        f"other channels: {channels.kiosks} counter tablets with {channels.kiosk_answers} "
        f"answers, {channels.paper_cards} paper cards ({channels.paper_answers} keyed in), "
        f"{summary.phone_visits} phone return visits"
    )
    trainings = summary.trainings
    click.echo(
        f"trainings: {trainings.trainings} ({trainings.done} done), "
        f"{trainings.added_answers} answers after the greeting trainings"
    )


def _reset_sqlite(bind: Any) -> None:
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        raise click.ClickException("--reset only deletes a SQLite database; drop others yourself.")
    bind.dispose()
    path = bind.url.database
    if path:
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
