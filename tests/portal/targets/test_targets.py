"""Targets: which one judges a store (store > region > chain, by effective date), setting
and removing them, and the scorecard of a constructed month."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.csat import csat_interval, wilson_interval
from analysis.nps import nps_interval
from analysis.results import NpsCounts
from analysis.targets import TargetStatus
from portal.audit import CLI
from portal.db import make_sessionmaker, writer
from portal.models import (
    AuditEntry,
    DailyRollup,
    Metric,
    Region,
    StoreDailyRollup,
    StoreMonthlyRollup,
    Target,
)
from portal.targets.operations import (
    DuplicateTarget,
    InvalidTarget,
    TargetInForce,
    remove_target,
    set_target,
)
from portal.targets.queries import CHAIN, Scope, target_for
from portal.targets.scorecard import scorecard
from tests.conftest import SETTINGS
from tests.portal.cases.test_service_level import complaint, contact

FEB = datetime(2026, 2, 1, 2, tzinfo=UTC)  # 10:00 in Shanghai on 1 February
HOUR = timedelta(hours=1)


def region(session: Session, name: str) -> Region:
    row = Region(name=name)
    session.add(row)
    session.flush()
    return row


def put(session: Session, metric: Metric, scope: Scope, value: float, day: date) -> Target:
    return set_target(
        session, metric=metric, scope=scope, value=value, effective_from=day, actor=CLI, now=FEB
    )


def test_a_store_is_judged_by_its_own_then_its_regions_then_the_chains(db_session, make_store):
    east = region(db_session, "华东")
    shop, other = make_store("SH-001", region="华东"), make_store("BJ-001", region="华北")
    put(db_session, Metric.NPS, CHAIN, 30, date(2026, 2, 1))
    put(db_session, Metric.NPS, Scope(region_id=east.id), 40, date(2026, 3, 1))
    put(db_session, Metric.NPS, Scope(store_id=shop.id), 50, date(2026, 4, 1))
    put(db_session, Metric.NPS, CHAIN, 35, date(2026, 5, 1))

    def value(store, day):
        target = target_for(db_session, Metric.NPS, store, day)
        return None if target is None else target.value

    assert value(shop, date(2026, 1, 31)) is None
    assert value(shop, date(2026, 2, 1)) == 30
    assert value(shop, date(2026, 2, 28)) == 30
    assert value(shop, date(2026, 3, 1)) == 40
    assert value(shop, date(2026, 4, 1)) == 50
    # A newer chain target does not override the store's own.
    assert value(shop, date(2026, 5, 2)) == 50
    assert value(other, date(2026, 3, 15)) == 30
    assert value(other, date(2026, 5, 2)) == 35
    # The seeded chain defaults of migration 0013.
    assert target_for(db_session, Metric.CSAT, other, date(2026, 5, 2)).value == 90.0
    assert target_for(db_session, Metric.COMPLAINT_RATE, shop, date(2020, 1, 1)).value == 0.5


def test_bad_targets_are_refused_on_their_field(db_session, make_store):
    with pytest.raises(InvalidTarget) as error:
        put(db_session, Metric.CSAT, CHAIN, 101, date(2026, 3, 1))
    assert error.value.field == "value"
    with pytest.raises(InvalidTarget) as error:
        put(db_session, Metric.NPS, CHAIN, float("nan"), date(2026, 3, 1))
    assert error.value.field == "value"
    assert put(db_session, Metric.NPS, CHAIN, -20, date(2026, 3, 1)).value == -20
    with pytest.raises(InvalidTarget) as error:
        put(db_session, Metric.NPS, CHAIN, 10, date(2026, 1, 31))
    assert error.value.field == "effective_from"
    with pytest.raises(InvalidTarget) as error:
        put(db_session, Metric.NPS, Scope(store_id=999_999), 10, date(2026, 3, 1))
    assert error.value.field == "store"
    with pytest.raises(DuplicateTarget):
        put(db_session, Metric.NPS, CHAIN, 10, date(2026, 3, 1))
    # The refused one left nothing pending: the session still flushes.
    put(db_session, Metric.NPS, CHAIN, 10, date(2026, 4, 1))
    values = db_session.scalars(
        select(Target.value).where(Target.metric == "nps").order_by(Target.effective_from)
    ).all()
    assert values == [-20, 10]


def test_only_a_target_not_yet_in_force_is_removed(db_session):
    future = put(db_session, Metric.RECOVERY_RATE, CHAIN, 70, date(2026, 3, 1))
    today = put(db_session, Metric.RECOVERY_RATE, CHAIN, 60, date(2026, 2, 1))
    with pytest.raises(TargetInForce):
        remove_target(db_session, today, actor=CLI, now=FEB)
    remove_target(db_session, future, actor=CLI, now=FEB)
    assert db_session.get(Target, today.id) is not None
    actions = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_type == "target").order_by(AuditEntry.id)
    ).all()
    assert actions == ["target.set", "target.set", "target.removed"]


def counted(session: Session, store_id: int, day: date, **counts: int) -> None:
    """Counts as the rollup would hold them after that day's answers and receipts."""
    session.add(DailyRollup(store_id=store_id, staff_key=0, day=day, channel="receipt", **counts))
    session.add(StoreDailyRollup(store_id=store_id, day=day, channel="receipt", **counts))
    session.add(
        StoreMonthlyRollup(store_id=store_id, month=day.replace(day=1), channel="receipt", **counts)
    )
    session.flush()


def local(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour - 8, tzinfo=UTC)


def test_the_scorecard_of_a_constructed_month(db_session, make_store):
    east = region(db_session, "华东")
    shop = make_store("SH-001", region="华东")
    counted(
        db_session,
        shop.id,
        date(2026, 3, 10),
        issued=4000,
        responses=100,
        nps_10=60,
        nps_8=20,
        nps_3=20,
        csat_5=198,
        csat_2=2,
    )
    a, _b = complaint(db_session, shop, local(5)), complaint(db_session, shop, local(6))
    contact(db_session, a, 2 * HOUR)  # b is never answered: late by April
    put(db_session, Metric.NPS, CHAIN, 50, date(2026, 2, 1))
    put(db_session, Metric.NPS, Scope(store_id=shop.id), 20, date(2026, 3, 1))
    put(db_session, Metric.NPS, Scope(store_id=shop.id), 60, date(2026, 4, 1))  # too late
    put(db_session, Metric.FIRST_RESPONSE, Scope(region_id=east.id), 99, date(2026, 2, 1))
    put(db_session, Metric.MYSTERY_SCORE, CHAIN, 80, date(2026, 2, 1))

    card = scorecard(
        db_session,
        SETTINGS,
        store_ids=[shop.id],
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        target_store=shop,
        now=datetime(2026, 4, 10, tzinfo=UTC),
    )
    by = {f.metric: f for f in card}
    assert [f.metric for f in card] == list(Metric)

    nps = by[Metric.NPS]
    assert nps.estimate == nps_interval(NpsCounts(60, 20, 20))
    assert nps.estimate.value == pytest.approx(40.0) and nps.estimate.n == 100
    assert (nps.target, nps.status) == (20, TargetStatus.MEETS)  # the store's, not the chain's

    csat = by[Metric.CSAT]
    assert csat.estimate == csat_interval(198, 200)
    assert (csat.target, csat.status) == (90.0, TargetStatus.MEETS)  # seeded default

    rate = by[Metric.COMPLAINT_RATE]
    share = wilson_interval(2, 4000)
    assert rate.estimate.value == pytest.approx(0.05) and rate.estimate.n == 4000
    assert rate.estimate.high == pytest.approx(100 * share.high)
    assert (rate.target, rate.status) == (0.5, TargetStatus.MEETS)

    first = by[Metric.FIRST_RESPONSE]
    assert (first.estimate.value, first.estimate.n) == (50.0, 2)
    assert (first.target, first.status) == (99, TargetStatus.MISSES)  # the region's

    recovery = by[Metric.RECOVERY_RATE]
    assert recovery.estimate.n == 0 and recovery.target is None and recovery.status is None

    mystery = by[Metric.MYSTERY_SCORE]
    assert mystery.estimate.n == 0 and mystery.status is TargetStatus.UNCLEAR


def test_a_region_scorecard_uses_the_regions_target_and_all_its_stores(db_session, make_store):
    east = region(db_session, "华东")
    one, two = make_store("SH-001", region="华东"), make_store("SH-002", region="华东")
    counted(db_session, one.id, date(2026, 3, 3), csat_5=40, csat_1=10)
    counted(db_session, two.id, date(2026, 3, 4), csat_5=50)
    put(db_session, Metric.CSAT, Scope(region_id=east.id), 95, date(2026, 3, 1))
    put(db_session, Metric.CSAT, Scope(store_id=one.id), 10, date(2026, 3, 1))
    card = scorecard(
        db_session,
        SETTINGS,
        store_ids=[one.id, two.id],
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        target_region_id=east.id,
        now=datetime(2026, 4, 10, tzinfo=UTC),
    )
    csat = next(f for f in card if f.metric == Metric.CSAT)
    assert csat.estimate == csat_interval(90, 100)
    assert (csat.target, csat.status) == (95, TargetStatus.MISSES)


def test_two_people_setting_the_same_target_at_once_one_wins(fresh_engine):
    factory = make_sessionmaker(writer(fresh_engine))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(value: float) -> None:
        with factory() as session:
            barrier.wait()
            try:
                put(session, Metric.NPS, CHAIN, value, date(2026, 3, 1))
                session.commit()
                outcomes.append("set")
            except DuplicateTarget as error:
                session.rollback()
                outcomes.append("refused" if "already has a target" in str(error) else "?")

    threads = [threading.Thread(target=attempt, args=(v,)) for v in (30, 40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "set"]
    with Session(fresh_engine) as session:
        assert len(session.scalars(select(Target).where(Target.metric == "nps")).all()) == 1


def test_the_demo_targets_judge_every_demo_month_and_one_is_coming(db_session, make_store):
    from portal.demo.targets import add_targets

    region(db_session, "华东")
    shop = make_store("SH-001", region="华东")
    now = datetime(2026, 6, 15, 4, tzinfo=UTC)
    assert add_targets(db_session, now=now, days=120) == 8
    first = date(2026, 2, 15)
    assert target_for(db_session, Metric.NPS, shop, first).value == 45
    assert target_for(db_session, Metric.CSAT, shop, first).value == 92
    assert target_for(db_session, Metric.MYSTERY_SCORE, shop, first).value == 80
    coming = db_session.scalars(
        select(Target).where(Target.metric == "nps", Target.scope_key == "chain")
    ).all()
    assert sorted(t.effective_from for t in coming) == [first, date(2026, 7, 1)]
