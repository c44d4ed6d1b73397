"""``create-api-token EMAIL``: a personal read token for the metrics API, from the CLI.

Registered by ``portal.cli.init_app``; the secret is printed once, alone on the last line,
so that scripts can take it with ``tail -n 1``.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.api_tokens.operations import create_api_token
from portal.audit import CLI
from portal.auth.operations import normalize_email
from portal.commands import transaction
from portal.db import utcnow
from portal.models import User


@click.command("create-api-token")
@click.argument("email")
@click.option("--label", default="", help="What the token is for.")
@with_appcontext
def create_api_token_command(email: str, label: str) -> None:
    """Create a personal metrics API token for the user with EMAIL; it is printed once, on
    the last line."""
    with transaction() as session:
        user = session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None:
            raise click.ClickException(f"No user with e-mail {email}.")
        new = create_api_token(session, user, actor=CLI, now=utcnow(), label=label)
    click.echo(f"API token {new.api_token.id} for {user.email} (shown only now):")
    click.echo(new.secret)
