"""``check-code CODE [--redeem]``: a till's validation-code check, from the CLI."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.audit import CLI
from portal.commands import transaction
from portal.config import current_settings
from portal.db import utcnow
from portal.formatting import localtime
from portal.validation_codes.operations import check_validation_code, redeem_validation_code


@click.command("check-code")
@click.argument("code")
@click.option("--redeem", is_flag=True, help="Also redeem it (once).")
@with_appcontext
def check_code_command(code: str, redeem: bool) -> None:
    """Check a thank-you validation code, and redeem it with --redeem."""
    secret = current_settings().secret_key
    with transaction() as session:
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
