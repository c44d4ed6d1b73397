"""Whose comments the themes pages read: one store, a region, or every store the user may
see, always through `portal.access` (a store the user may not see answers 404, as one that
does not exist), and which month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.calendar import Period, last_complete_month, parse_month
from portal.dashboard.queries import visible_store, visible_store_ids_in
from portal.errors import DomainError, NotFound
from portal.models import Store, User


class InvalidMonth(DomainError):
    status = 400
    code = "invalid_month"
    message = _l("Choose a month such as 2026-03.")


@dataclass(frozen=True, slots=True)
class ThemeScope:
    """One store (``store``), one region, or all the user's stores; their ids."""

    store: Store | None
    region: str | None
    store_ids: tuple[int, ...]

    @property
    def args(self) -> dict[str, str]:
        """The scope as query arguments of the themes pages."""
        if self.store is not None:
            return {"store": self.store.code}
        return {"region": self.region} if self.region else {}


def theme_scope(session: Session, user: User, store_code: str, region: str) -> ThemeScope:
    """The scope of ``?store=`` (a code) or else ``?region=`` (a name) for ``user``.

    Raises
    ------
    NotFound
        A store code the user may not see, or that does not exist.
    """
    if store_code:
        store = visible_store(session, user, store_code)
        if store is None:
            raise NotFound()
        return ThemeScope(store, None, (store.id,))
    ids = visible_store_ids_in(session, user, region or None)
    return ThemeScope(None, region or None, tuple(ids))


def month_period(session: Session, text: str, now: datetime) -> Period:
    """The store-local days of ``?month=YYYY-MM``; the last month over in every store when
    none is given.

    Raises
    ------
    InvalidMonth
        Anything but a month such as 2026-03.
    """
    month = parse_month(text) if text else last_complete_month(session, now)
    if month is None:
        raise InvalidMonth(field="month")
    return Period.of_month(month)
