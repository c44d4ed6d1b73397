"""The tills' side from the command line: a store's POS keys (``create-api-key``,
``list-api-keys``, ``revoke-api-key``) and receipts issued in a batch instead of by a till
(``issue-receipts``, QR files for printing)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.admin.operations import get_store
from portal.audit import CLI
from portal.commands import transaction
from portal.config import current_settings
from portal.db import utcnow
from portal.exports.writers import neutralise_cell
from portal.models import ApiKey
from portal.pos_api.operations import create_api_key, revoke_api_key
from portal.receipts import issue_receipt, survey_links
from surveys.codes import format_short_code
from surveys.qr import render_qr_png, render_qr_svg


@click.command("create-api-key")
@click.argument("store_code")
@click.option("--label", default="", help="Which till or system uses the key.")
@with_appcontext
def create_api_key_command(store_code: str, label: str) -> None:
    """Create a POS API key for a store; the key is printed once, on the last line."""
    with transaction() as session:
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
    with transaction() as session:
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
    with transaction() as session:
        revoke_api_key(session, key_id, actor=CLI, now=utcnow())
    click.echo(f"API key {key_id} is revoked.")


@click.command("issue-receipts")
@click.argument("store_code")
@click.option("--count", required=True, type=click.IntRange(1, 100_000))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--staff", "staff_code", default=None, help="Tie the receipts to a staff code.")
@click.option(
    "--survey",
    "survey_key",
    default=None,
    help="The key of the survey the receipts ask (default: as the targeting rules decide).",
)
@with_appcontext
def issue_receipts_command(
    store_code: str, count: int, out: Path, staff_code: str | None, survey_key: str | None
) -> None:
    """Issue COUNT receipt tokens for a store and write their QR codes (PNG and SVG) and an
    index receipts.csv into OUT."""
    settings = current_settings()
    out.mkdir(parents=True, exist_ok=True)
    now = utcnow()
    batch = now.strftime("%Y%m%d%H%M%S")
    rows: list[dict[str, Any]] = []
    with transaction() as session:
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
                    survey_key=survey_key,
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
        # The index is opened in a spreadsheet: its cells go through the one formula rule.
        table = csv.writer(index)
        table.writerow([neutralise_cell(name) for name in rows[0]])
        table.writerows([neutralise_cell(value) for value in row.values()] for row in rows)
    click.echo(f"Issued {count} receipts for {store_code} into {out}.")
