"""Reading tablets: the console's list (every tablet in the console's scope, with its
store), one tablet in scope, and what a tablet's page shows — the survey a receipt issued
now at its store would ask (`portal.targeting`), the store and the chain's branding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from portal.admin.scope import ConsoleScope
from portal.branding import ShopperBranding, shopper_branding
from portal.calendar import local_day
from portal.errors import NotFound
from portal.models import Kiosk, Store, SurveyVersion
from portal.targeting import version_id_for_receipt
from portal.versions import definition_of
from surveys.definitions import SurveyDefinition


def kiosks_stmt(scope: ConsoleScope) -> Select[tuple[Kiosk, Store]]:
    """The tablets of the stores in ``scope``, by store code, then name."""
    return (
        select(Kiosk, Store)
        .join(Store, Store.id == Kiosk.store_id)
        .where(Store.id.in_(scope.store_ids().scalar_subquery()))
        .order_by(Store.code, Kiosk.name, Kiosk.id)
    )


def get_kiosk_in_scope(session: Session, scope: ConsoleScope, kiosk_id: int) -> Kiosk:
    """The tablet with this id when its store is in scope.

    Raises
    ------
    NotFound
        No such tablet, or one of a store outside the scope (the same answer).
    """
    kiosk = session.scalar(
        select(Kiosk).where(
            Kiosk.id == kiosk_id, Kiosk.store_id.in_(scope.store_ids().scalar_subquery())
        )
    )
    if kiosk is None:
        raise NotFound()
    return kiosk


@dataclass(frozen=True, slots=True)
class KioskPage:
    """What the tablet's survey page shows besides the form."""

    version_id: int
    definition: SurveyDefinition
    store_name: str
    store_format: str
    branding: ShopperBranding


def split_key(kiosk: Kiosk) -> str:
    """What an A/B split assigns a tablet by, as it assigns a receipt by its token id: the
    tablet stays in one arm, so its cached page and its answers agree."""
    return f"kiosk-{kiosk.id}"


def get_kiosk_page(session: Session, kiosk: Kiosk, now: datetime) -> KioskPage:
    """The survey version a receipt issued at ``now`` at the tablet's store would ask."""
    store = kiosk.store
    day = local_day(now, store.timezone)
    version = session.get_one(
        SurveyVersion, version_id_for_receipt(session, store, day, split_key(kiosk))
    )
    return KioskPage(
        version_id=version.id,
        definition=definition_of(version),
        store_name=store.name,
        store_format=store.format,
        branding=shopper_branding(session),
    )
