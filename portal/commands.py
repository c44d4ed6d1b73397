"""What the CLI commands share: one transaction per command.

Each area's ``commands.py`` holds its own click commands; ``portal.cli`` registers them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from flask import current_app
from sqlalchemy.orm import Session

from portal.errors import DomainError


@contextmanager
def transaction(*, read_only: bool = False) -> Iterator[Session]:
    """One transaction per command, committed at the end; a domain error becomes a clean
    non-zero exit with nothing written.

    ``read_only`` takes the reader session, which on SQLite begins without the write lock,
    and closes it without committing.
    """
    _bind, readers, writers = current_app.extensions["portal.db"]
    with (readers if read_only else writers)() as session:
        try:
            if read_only:
                yield session
            else:
                with session.begin():
                    yield session
        except DomainError as error:
            raise click.ClickException(str(error.message)) from None


def parse_now(text: str | None) -> datetime:
    """A job's ``--now`` option: an ISO 8601 time (UTC when it names no zone), or the
    present when not given; anything else is a usage error on ``--now``."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            "use an ISO 8601 time such as 2026-05-18T06:00", param_hint="--now"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
