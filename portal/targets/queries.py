"""Which target is in force: for a scope on a day, and for a store (its own, else its
region's, else the chain's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import Metric, Region, Store, Target, scope_key_of


@dataclass(frozen=True, slots=True)
class Scope:
    """The chain (both ``None``), one region or one store."""

    region_id: int | None = None
    store_id: int | None = None

    @property
    def key(self) -> str:
        return scope_key_of(self.region_id, self.store_id)


CHAIN = Scope()


def target_in_force(session: Session, metric: Metric, scope: Scope, day: date) -> Target | None:
    """The target of exactly this scope in force on ``day``: the newest one effective on or
    before it."""
    return session.scalars(
        select(Target)
        .where(
            Target.metric == metric.value,
            Target.scope_key == scope.key,
            Target.effective_from <= day,
        )
        .order_by(Target.effective_from.desc())
        .limit(1)
    ).first()


def region_id_of(session: Session, store: Store) -> int | None:
    """The id of the store's region (stores name their region), or ``None``."""
    if not store.region:
        return None
    return session.scalar(select(Region.id).where(Region.name == store.region))


def resolution(
    session: Session, *, store: Store | None = None, region_id: int | None = None
) -> tuple[Scope, ...]:
    """The scopes whose targets apply, the most specific first: a store's own, its region's,
    the chain's; a region's, the chain's; or the chain's alone."""
    scopes: list[Scope] = []
    if store is not None:
        region_id = region_id_of(session, store)
        scopes.append(Scope(store_id=store.id))
    if region_id is not None:
        scopes.append(Scope(region_id=region_id))
    return (*scopes, CHAIN)


def resolve_target(
    session: Session, metric: Metric, scopes: tuple[Scope, ...], day: date
) -> Target | None:
    """The first of ``scopes`` (most specific first) that has a target in force on ``day``.

    A store's own target wins over its region's even when the region's is newer: the more
    specific scope was set for this store on purpose.
    """
    for scope in scopes:
        target = target_in_force(session, metric, scope, day)
        if target is not None:
            return target
    return None


def target_for(session: Session, metric: Metric, store: Store, day: date) -> Target | None:
    """The target a store is judged by on ``day``: its own, else its region's, else the
    chain's, each the one in force on that day."""
    return resolve_target(session, metric, resolution(session, store=store), day)


def targets_by_scope(session: Session, scopes: tuple[Scope, ...] | None = None) -> list[Target]:
    """Every target (of ``scopes`` only, when given), by metric, scope and date."""
    stmt = select(Target).order_by(Target.metric, Target.scope_key, Target.effective_from)
    if scopes is not None:
        stmt = stmt.where(Target.scope_key.in_([s.key for s in scopes]))
    return list(session.scalars(stmt).all())
