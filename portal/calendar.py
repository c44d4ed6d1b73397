"""The portal's one calendar: store-local days and hours, "today", and calendar months.

Every figure is counted on the store's own clock (a receipt printed at 23:30 in Urumqi
belongs to that store's day, not to UTC's or Beijing's), and a month is over for the
chain only when it is over in every store's zone. Months are written ``YYYY-MM`` in URLs
and the CLI and held as the date of their first day everywhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.trends import month_start
from portal.models import Store

__all__ = [
    "DEFAULT_ZONE",
    "Period",
    "chain_today",
    "last_complete_month",
    "local_day",
    "local_hour",
    "local_midnight",
    "local_today",
    "month_key",
    "month_start",
    "months_ending",
    "months_between",
    "next_month",
    "parse_month",
    "previous_month",
    "zone",
]

# The chain's head-office zone: the default for new stores and for chain-wide pages.
DEFAULT_ZONE = "Asia/Shanghai"

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)


@dataclass(frozen=True, slots=True)
class Period:
    """Store-local days ``start`` .. ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @classmethod
    def of_month(cls, month: date) -> Period:
        """The days of the month ``month`` falls in."""
        first = month.replace(day=1)
        return cls(first, next_month(first) - timedelta(days=1))

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)


@lru_cache(maxsize=64)
def zone(name: str | None = None) -> ZoneInfo:
    """The time zone called ``name`` (the chain's default zone when ``None``)."""
    return ZoneInfo(name or DEFAULT_ZONE)


def local_day(moment: datetime, timezone: str) -> date:
    """The calendar day of ``moment`` in a store's time zone."""
    return moment.astimezone(zone(timezone)).date()


def local_hour(moment: datetime, timezone: str) -> int:
    """The hour (0-23) of ``moment`` on a store's clock."""
    return moment.astimezone(zone(timezone)).hour


def local_today(timezone: str | None, now: datetime) -> date:
    """The day it is at ``now`` in ``timezone`` (the chain's default zone when ``None``)."""
    return now.astimezone(zone(timezone)).date()


def local_midnight(day: date, timezone: str | None = None) -> datetime:
    """The moment ``day`` begins in ``timezone`` (the chain's default zone when ``None``)."""
    return datetime.combine(day, time.min, zone(timezone))


def chain_today(session: Session, now: datetime) -> date:
    """The calendar day it is everywhere in the chain: the earliest of the stores' local
    dates (a month is over only when it is over in every store's zone)."""
    zones = set(session.scalars(select(Store.timezone).distinct())) or {DEFAULT_ZONE}
    return min(local_today(name, now) for name in zones)


def next_month(month: date) -> date:
    """The first day of the month after the one ``month`` falls in."""
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    """The first day of the month before the one ``month`` falls in."""
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def last_complete_month(session: Session, now: datetime) -> date:
    """The most recent month that is over in every store: the default month of the HR
    pages, the CLI and the award cycle."""
    return previous_month(chain_today(session, now))


def parse_month(text: str | None) -> date | None:
    """``YYYY-MM`` as the first day of that month; ``None`` for anything else."""
    match = _MONTH.fullmatch((text or "").strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_key(month: date) -> str:
    """``2026-10`` for any day of October 2026 (the month's form in URLs and the CLI)."""
    return month.strftime("%Y-%m")


def months_ending(month: date, count: int) -> list[date]:
    """``count`` consecutive months, oldest first, the last one the month of ``month``."""
    months = [month_start(month)]
    while len(months) < count:
        months.insert(0, previous_month(months[0]))
    return months


def months_between(first: date, last: date) -> list[date]:
    """Every month from the month of ``first`` to the month of ``last``, oldest first."""
    months: list[date] = []
    month = month_start(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months
