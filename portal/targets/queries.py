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


@dataclass(frozen=True, slots=True)
class TargetBook:
    """Every target in force on one day, read in one query: the one place the rule of which
    target judges a figure lives, for one store's page and for pages of many stores."""

    #: (metric value, scope key) -> the target of exactly that scope in force.
    in_force: dict[tuple[str, str], Target]
    #: Region name -> id (stores name their region).
    region_ids: dict[str, int]

    def resolve(self, metric: Metric, scopes: tuple[Scope, ...]) -> Target | None:
        """The target of the first of ``scopes`` (most specific first) that has one.

        A store's own target wins over its region's even when the region's is newer: the
        more specific scope was set for this store on purpose.
        """
        for scope in scopes:
            target = self.in_force.get((metric.value, scope.key))
            if target is not None:
                return target
        return None

    def for_store(self, metric: Metric, store: Store) -> Target | None:
        region_id = self.region_ids.get(store.region) if store.region else None
        # A store without a region has the chain's key in its region's place: harmless.
        return self.resolve(metric, (Scope(store_id=store.id), Scope(region_id=region_id), CHAIN))

    def for_region(self, metric: Metric, region_id: int | None) -> Target | None:
        return self.resolve(metric, (Scope(region_id=region_id), CHAIN))


def target_book(session: Session, day: date) -> TargetBook:
    """The targets in force on ``day``: of each metric and scope the newest effective."""
    in_force: dict[tuple[str, str], Target] = {}
    rows = session.scalars(
        select(Target).where(Target.effective_from <= day).order_by(Target.effective_from)
    )
    for target in rows:  # oldest first: the newest in force wins
        in_force[(target.metric, target.scope_key)] = target
    regions = dict(session.execute(select(Region.name, Region.id)).tuples().all())
    return TargetBook(in_force, regions)


def target_for(session: Session, metric: Metric, store: Store, day: date) -> Target | None:
    """The target a store is judged by on ``day``: its own, else its region's, else the
    chain's, each the one in force on that day."""
    return target_book(session, day).for_store(metric, store)


def targets_by_scope(session: Session, scopes: tuple[Scope, ...] | None = None) -> list[Target]:
    """Every target (of ``scopes`` only, when given), by metric, scope and date."""
    stmt = select(Target).order_by(Target.metric, Target.scope_key, Target.effective_from)
    if scopes is not None:
        stmt = stmt.where(Target.scope_key.in_([s.key for s in scopes]))
    return list(session.scalars(stmt).all())


@dataclass(frozen=True, slots=True)
class TargetRow:
    """A target on the list: in force today, coming (``future``) or replaced (``past``)."""

    target: Target
    scope_label: str
    state: str


def target_rows(session: Session, scopes: tuple[Scope, ...] | None, today: date) -> list[TargetRow]:
    """The targets of ``scopes`` (``None``: all), each with the state it has on ``today``.

    Of one metric and scope, the newest target effective on or before today is in force,
    earlier ones are past and later ones future.
    """
    targets = targets_by_scope(session, scopes)
    in_force: dict[tuple[str, str], int] = {}
    for target in targets:  # by date within (metric, scope): the last one wins
        if target.effective_from <= today:
            in_force[(target.metric, target.scope_key)] = target.id
    regions = dict(session.execute(select(Region.id, Region.name)).tuples().all())
    stores = {
        s.id: f"{s.code} {s.name}"
        for s in session.scalars(
            select(Store).where(Store.id.in_([t.store_id for t in targets if t.store_id]))
        )
    }
    rows = []
    for target in targets:
        if target.effective_from > today:
            state = "future"
        elif in_force.get((target.metric, target.scope_key)) == target.id:
            state = "in_force"
        else:
            state = "past"
        rows.append(TargetRow(target, _scope_label(target, regions, stores), state))
    return rows


def _scope_label(target: Target, regions: dict[int, str], stores: dict[int, str]) -> str:
    if target.store_id is not None:
        return stores.get(target.store_id, "")
    if target.region_id is not None:
        return regions.get(target.region_id, "")
    return ""


def visible_scopes(session: Session, store_ids: list[int]) -> tuple[Scope, ...]:
    """The scopes whose targets judge some of these stores: theirs, their regions', the
    chain's."""
    names = set(session.scalars(select(Store.region).where(Store.id.in_(store_ids))))
    region_ids = session.scalars(select(Region.id).where(Region.name.in_(sorted(names))))
    return (
        *(Scope(store_id=i) for i in store_ids),
        *(Scope(region_id=i) for i in region_ids),
        CHAIN,
    )
