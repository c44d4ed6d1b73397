"""The chain's branding as the shopper pages use it: name, logo, colour.

Set on the survey owner's branding page; read on every survey and thank-you page, so the
read is one primary-key lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from portal.models import Branding

#: The one row of the branding table.
BRANDING_ID = 1


@dataclass(frozen=True, slots=True)
class ShopperBranding:
    """What a shopper page shows; every part optional."""

    chain_name_zh: str
    chain_name_en: str
    #: The logo's content hash (its URL), ``None`` without a logo.
    logo_sha256: str | None
    #: ``#rrggbb`` that passed the contrast check when it was saved, or ``None``.
    primary_colour: str | None

    def chain_name(self, locale: str) -> str:
        """The chain's name in ``locale``, falling back to the other language."""
        zh_first = locale.replace("-", "_").startswith("zh")
        first, second = (
            (self.chain_name_zh, self.chain_name_en)
            if zh_first
            else (self.chain_name_en, self.chain_name_zh)
        )
        return first or second


NO_BRANDING = ShopperBranding("", "", None, None)


def shopper_branding(session: Session) -> ShopperBranding:
    """The branding to show, or `NO_BRANDING` when none was ever set."""
    row = session.get(Branding, BRANDING_ID)
    if row is None:
        return NO_BRANDING
    return ShopperBranding(
        chain_name_zh=row.chain_name_zh,
        chain_name_en=row.chain_name_en,
        logo_sha256=row.logo_sha256,
        primary_colour=row.primary_colour,
    )
