"""``create-user``: an account that signs in with e-mail and password, from the CLI."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.admin.operations import get_store
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.commands import transaction
from portal.db import utcnow
from portal.models import Role


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--store", "stores", multiple=True, help="Store code (managers); repeatable.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="")
@with_appcontext
def create_user_command(
    email: str, role: str, stores: tuple[str, ...], password: str, name: str
) -> None:
    """Add a user who signs in with e-mail and password."""
    with transaction() as session:
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
