"""The demo's targets: a few chain, region and store targets in force since the demo's
first day (so every demo month is judged), and one not yet in force."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import CLI
from portal.calendar import chain_today, next_month
from portal.models import Metric, Region, Store
from portal.targets.operations import set_target
from portal.targets.queries import CHAIN, Scope

#: (metric, scope: "chain", a region's name or a store's code, value). The seeded chain
#: defaults (complaint rate < 0.5 %, satisfaction >= 90 %) stay as they are.
DEMO_TARGETS = (
    (Metric.NPS, "chain", 30.0),
    (Metric.FIRST_RESPONSE, "chain", 85.0),
    (Metric.RECOVERY_RATE, "chain", 60.0),
    (Metric.MYSTERY_SCORE, "chain", 80.0),
    (Metric.NPS, "华东", 35.0),
    (Metric.NPS, "SH-001", 45.0),
    (Metric.CSAT, "SH-001", 92.0),
)


def _scope(session: Session, name: str) -> Scope | None:
    if name == "chain":
        return CHAIN
    store_id = session.scalar(select(Store.id).where(Store.code == name))
    if store_id is not None:
        return Scope(store_id=store_id)
    region_id = session.scalar(select(Region.id).where(Region.name == name))
    return None if region_id is None else Scope(region_id=region_id)


def add_targets(session: Session, *, now: datetime, days: int) -> int:
    """Set the demo's targets from the demo's first day, and a stricter chain NPS from next
    month (shown as coming); returns how many were set. Flushes only."""
    start = now - timedelta(days=days)
    first_day = chain_today(session, start)
    count = 0
    for metric, name, value in DEMO_TARGETS:
        scope = _scope(session, name)
        if scope is None:
            continue
        set_target(
            session,
            metric=metric,
            scope=scope,
            value=value,
            effective_from=first_day,
            actor=CLI,
            now=start,
        )
        count += 1
    set_target(
        session,
        metric=Metric.NPS,
        scope=CHAIN,
        value=35.0,
        effective_from=next_month(chain_today(session, now).replace(day=1)),
        actor=CLI,
        now=now,
    )
    return count + 1
