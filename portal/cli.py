"""Command-line interface: ``flask --app portal <command>`` (or the ``portal`` script).

Thin commands, named as DESIGN.md section 4 names them: parse, open a session, call an
operation, commit, print. Failures exit non-zero with a message on stderr. Commands that
create a secret print it alone on their last line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.config import Settings
from portal.db import make_sessionmaker, utcnow, writer
from portal.errors import DomainError


def _settings() -> Settings:
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return settings


@contextmanager
def _transaction() -> Iterator[Session]:
    """One transaction per command, committed at the end; a domain error becomes a clean
    non-zero exit with nothing written."""
    bind = current_app.extensions["portal.db"][0]
    factory = make_sessionmaker(writer(bind) if isinstance(bind, Engine) else bind)
    with factory() as session:
        try:
            with session.begin():
                yield session
        except DomainError as error:
            raise click.ClickException(str(error.message)) from None


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database to the latest schema (Alembic)."""
    from portal.models import Response, StoreDailyRollup
    from portal.rollups import rebuild_rollups
    from portal.schema import upgrade_database

    upgrade_database(current_app.extensions["portal.db"][0])
    click.echo("Database is at the latest schema.")
    with _transaction() as session:
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
    from portal.admin.operations import get_store
    from portal.rollups import rebuild_rollups

    with _transaction() as session:
        ids = [get_store(session, code).id for code in store_codes] or None
        rows = rebuild_rollups(session, ids)
    click.echo(f"Rebuilt {rows} rollup rows.")


@click.command("create-store")
@click.argument("code")
@click.argument("name")
@click.option("--region", default="", help="Region, e.g. 华东.")
@click.option("--timezone", "timezone", default="Asia/Shanghai", show_default=True)
@with_appcontext
def create_store_command(code: str, name: str, region: str, timezone: str) -> None:
    """Add a store."""
    from portal.admin.operations import create_store

    with _transaction() as session:
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
    from portal.admin.operations import create_staff

    with _transaction() as session:
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
    from portal.admin.operations import import_staff

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file} is not UTF-8 text.") from None
    with _transaction() as session:
        result = import_staff(session, text, actor=CLI, now=utcnow())
    click.echo(f"Imported staff: {result.created} created, {result.updated} updated.")


@click.command("create-user")
@click.argument("email")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "manager", "mystery", "reviewer", "hr"])
)
@click.option("--store", "stores", multiple=True, help="Store code (managers); repeatable.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="")
@with_appcontext
def create_user_command(
    email: str, role: str, stores: tuple[str, ...], password: str, name: str
) -> None:
    """Add a user who signs in with e-mail and password."""
    from portal.admin.operations import get_store
    from portal.auth.operations import create_user

    with _transaction() as session:
        user = create_user(
            session,
            email=email,
            role=role,
            password=password,
            name=name,
            stores=[get_store(session, code) for code in stores],
            actor=CLI,
            now=utcnow(),
        )
    click.echo(f"Created {role} {user.email}.")


@click.command("create-api-key")
@click.argument("store_code")
@click.option("--label", default="", help="Which till or system uses the key.")
@with_appcontext
def create_api_key_command(store_code: str, label: str) -> None:
    """Create a POS API key for a store; the key is printed once, on the last line."""
    from portal.admin.operations import get_store
    from portal.pos_api.operations import create_api_key

    with _transaction() as session:
        new = create_api_key(
            session, get_store(session, store_code), actor=CLI, now=utcnow(), label=label
        )
    click.echo(f"API key {new.api_key.id} for store {store_code} (shown only now):")
    click.echo(new.secret)


@click.command("list-api-keys")
@click.argument("store_code")
@with_appcontext
def list_api_keys_command(store_code: str) -> None:
    """List a store's POS keys (id, prefix, created, revoked)."""
    from portal.admin.operations import get_store
    from portal.models import ApiKey

    with _transaction() as session:
        store = get_store(session, store_code)
        keys = session.scalars(select(ApiKey).where(ApiKey.store_id == store.id)).all()
        for key in keys:
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "live"
            click.echo(f"{key.id}\t{key.prefix}…\t{key.created_at:%Y-%m-%d}\t{state}\t{key.label}")


@click.command("revoke-api-key")
@click.argument("key_id", type=int)
@with_appcontext
def revoke_api_key_command(key_id: int) -> None:
    """Revoke a POS key by its id (see list-api-keys)."""
    from portal.pos_api.operations import revoke_api_key

    with _transaction() as session:
        revoke_api_key(session, key_id, actor=CLI, now=utcnow())
    click.echo(f"API key {key_id} is revoked.")


@click.command("issue-receipts")
@click.argument("store_code")
@click.option("--count", required=True, type=click.IntRange(1, 100_000))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--staff", "staff_code", default=None, help="Tie the receipts to a staff code.")
@with_appcontext
def issue_receipts_command(store_code: str, count: int, out: Path, staff_code: str | None) -> None:
    """Issue COUNT receipt tokens for a store and write their QR codes (PNG and SVG) and an
    index receipts.csv into OUT."""
    from portal.admin.operations import get_store
    from portal.receipts import issue_receipt, survey_links
    from surveys.codes import format_short_code
    from surveys.qr import render_qr_png, render_qr_svg

    settings = _settings()
    out.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    batch = now.strftime("%Y%m%d%H%M%S")
    rows: list[dict[str, Any]] = []
    with _transaction() as session:
        store = get_store(session, store_code)
        with click.progressbar(range(count), label="Issuing receipts") as bar:
            for n in bar:
                issued = issue_receipt(
                    session,
                    settings,
                    store=store,
                    staff_code=staff_code,
                    transaction_id=f"BATCH-{batch}-{n + 1:06d}",
                    issued_at=None,
                    total_cents=None,
                    now=now,
                    source="batch",
                )
                links = survey_links(settings, issued.token)
                code = issued.receipt.short_code
                (out / f"{code}.png").write_bytes(render_qr_png(links.survey_url))
                (out / f"{code}.svg").write_bytes(render_qr_svg(links.survey_url))
                rows.append(
                    {
                        "transaction_id": issued.receipt.transaction_id,
                        "short_code": format_short_code(code),
                        "survey_url": links.survey_url,
                        "qr_png": f"{code}.png",
                        "qr_svg": f"{code}.svg",
                        "expires_at": issued.receipt.expires_at.isoformat(),
                    }
                )
    with (out / "receipts.csv").open("w", newline="", encoding="utf-8") as index:
        writer_ = csv.DictWriter(index, fieldnames=list(rows[0]))
        writer_.writeheader()
        writer_.writerows(rows)
    click.echo(f"Issued {count} receipts for {store_code} into {out}.")


@click.command("check-code")
@click.argument("code")
@click.option("--redeem", is_flag=True, help="Also redeem it (once).")
@with_appcontext
def check_code_command(code: str, redeem: bool) -> None:
    """Check a thank-you validation code, and redeem it with --redeem."""
    from portal.formatting import localtime
    from portal.validation_codes.operations import check_validation_code, redeem_validation_code

    secret = _settings().secret_key
    with _transaction() as session:
        if redeem:
            status = redeem_validation_code(
                session, secret, code, user=None, actor=CLI, now=utcnow()
            )
        else:
            status = check_validation_code(session, secret, code, user=None)
    click.echo(
        f"Valid: response {status.response_id} at {status.store_code} {status.store_name}, "
        f"answered {localtime(status.submitted_at)}."
    )
    if redeem:
        click.echo("Redeemed now.")
    elif status.redeemed_at is not None:
        click.echo(f"Already redeemed {localtime(status.redeemed_at)}.")
    else:
        click.echo("Not redeemed yet.")


from portal.api_tokens.commands import create_api_token_command  # noqa: E402
from portal.awards.commands import award_cycle_command, verify_awards_command  # noqa: E402
from portal.cases.commands import overdue_command, send_mail_command  # noqa: E402
from portal.demo.commands import demo_command  # noqa: E402
from portal.hr.commands import rank_command  # noqa: E402
from portal.mystery.commands import finalise_visits_command  # noqa: E402

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
    from portal import create_app

    FlaskGroup(create_app=lambda: create_app())()
