"""Saving the chain's branding: its name in both languages, the logo, the primary colour.

The branding is one row (`portal.branding.BRANDING_ID`), created by the first save. Two
owners saving at once cannot lose each other's change: the form carries a token of what
the page showed (`branding_token`), and a save over a row that changed meanwhile is
refused. The colour must pass the WCAG AA contrast check against white; a refused save
writes nothing at all, whichever part of it was wrong.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.branding import BRANDING_ID
from portal.errors import Conflict, DomainError
from portal.models import Branding
from portal.survey_editor.logo import CleanLogo
from surveys.colour import (
    AA_NORMAL_TEXT,
    WHITE,
    contrast_ratio,
    darker_shade_reaching,
    hex_colour,
    parse_hex_colour,
    ratio_text,
)

#: The longest chain name in either language (the column's width).
CHAIN_NAME_MAX = 100


class InvalidBranding(DomainError):
    status = 400
    code = "invalid_branding"


class BrandingChanged(Conflict):
    message = _l(
        "Someone else changed the branding since this page was shown. Nothing was saved: "
        "the preview now shows their branding, the form what you typed. Send it again to "
        "replace theirs."
    )


@dataclass(frozen=True, slots=True)
class BrandingChange:
    """What the branding page asks to store."""

    chain_name_zh: str
    chain_name_en: str
    #: A new logo, already cleaned; ``None`` keeps the current one (unless removed).
    logo: CleanLogo | None
    remove_logo: bool
    #: ``#rrggbb`` as typed (either case), or ``None`` for the portal's own colour.
    primary_colour: str | None


def branding_token(row: Branding | None) -> str:
    """A short fingerprint of what the branding is now: the page sends it back, and a save
    is refused when the row no longer matches it."""
    # No row yet reads as an empty one: the row a first save creates.
    values = ["", "", None, None] if row is None else _values(row)
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:16]


def _values(row: Branding) -> list[str | None]:
    return [row.chain_name_zh, row.chain_name_en, row.logo_sha256, row.primary_colour]


def check_primary_colour(text: str | None) -> str | None:
    """The colour to store (``#rrggbb``, lower case), or ``None`` for none.

    Raises
    ------
    InvalidBranding
        Not ``#rrggbb``, or below 4.5:1 against white; the message gives the measured
        ratio and the nearest darker shade that passes.
    """
    if text is None or not text.strip():
        return None
    try:
        rgb = parse_hex_colour(text.strip())
    except ValueError:
        raise InvalidBranding(
            _l("Write the colour as # and six hexadecimal digits, e.g. #1A5FB4."),
            field="primary_colour",
        ) from None
    ratio = contrast_ratio(rgb, parse_hex_colour(WHITE))
    if ratio < AA_NORMAL_TEXT:
        suggestion = hex_colour(darker_shade_reaching(rgb, parse_hex_colour(WHITE), AA_NORMAL_TEXT))
        raise InvalidBranding(
            _l(
                "%(colour)s reaches only %(ratio)s:1 against white; headings and white button "
                "text need at least 4.5:1 (WCAG AA). The nearest darker shade that passes is "
                "%(suggestion)s.",
                colour=hex_colour(rgb).upper(),
                ratio=ratio_text(ratio),
                suggestion=suggestion.upper(),
            ),
            field="primary_colour",
        )
    return hex_colour(rgb)


def save_branding(
    session: Session, change: BrandingChange, *, seen: str, actor: Actor, now: datetime
) -> list[str]:
    """Store ``change`` in the branding row (created on first save) and audit
    ``branding.updated``.

    Parameters
    ----------
    seen : str
        `branding_token` of the branding the page showed.

    Returns
    -------
    list of str
        What changed (``chain_name``, ``logo``, ``logo_removed``, ``colour``); empty when the
        row already held all of it (then nothing is written).

    Raises
    ------
    InvalidBranding
        A name too long, a logo both uploaded and removed, or a colour that fails
        `check_primary_colour`; nothing is written.
    BrandingChanged
        The row is no longer what the page showed.
    """
    colour = check_primary_colour(change.primary_colour)
    for field in ("chain_name_zh", "chain_name_en"):
        if len(getattr(change, field)) > CHAIN_NAME_MAX:
            raise InvalidBranding(_l("At most %(n)s characters.", n=CHAIN_NAME_MAX), field=field)
    if change.logo is not None and change.remove_logo:
        raise InvalidBranding(
            _l("Either upload a new logo or remove the logo, not both."), field="remove_logo"
        )
    row = _locked_row(session)
    if branding_token(row) != seen:
        raise BrandingChanged()
    changed = _apply(row, change, colour)
    if changed:
        row.updated_at = now
        row.updated_by_user_id = actor.user_id
        session.flush()
        record_audit(
            session, actor, "branding.updated", "branding", BRANDING_ID, now,
            branding_changed=changed, colour=colour or "",
        )  # fmt: skip
    return changed


def _apply(row: Branding, change: BrandingChange, colour: str | None) -> list[str]:
    changed = []
    names = (change.chain_name_zh.strip(), change.chain_name_en.strip())
    if names != (row.chain_name_zh, row.chain_name_en):
        row.chain_name_zh, row.chain_name_en = names
        changed.append("chain_name")
    if change.logo is not None and change.logo.sha256 != row.logo_sha256:
        row.logo_png, row.logo_sha256 = change.logo.png, change.logo.sha256
        changed.append("logo")
    elif change.remove_logo and row.logo_sha256 is not None:
        row.logo_png = row.logo_sha256 = None
        changed.append("logo_removed")
    if colour != row.primary_colour:
        row.primary_colour = colour
        changed.append("colour")
    return changed


def _locked_row(session: Session) -> Branding:
    """The branding row, created if missing, locked until the transaction ends.

    ``INSERT ... ON CONFLICT DO NOTHING`` rather than insert-and-catch: two first saves at
    once both get the row (the second waits for the first's insert), neither an error.
    """
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast(Table, Branding.__table__)
    session.execute(insert(table).values(id=BRANDING_ID).on_conflict_do_nothing())
    return session.scalars(
        select(Branding)
        .where(Branding.id == BRANDING_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
