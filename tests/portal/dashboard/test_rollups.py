"""The daily rollup always equals the raw aggregates: after live writes and after a rebuild."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from portal.db import utcnow
from portal.models import DailyRollup, Receipt, Response, StoreDailyRollup, StoreMonthlyRollup
from portal.rollups import COUNT_COLUMNS, rebuild_rollups

RATINGS = ("friendliness", "speed", "availability", "cleanliness", "knowledge")


def rollup_rows(session):
    rows = session.execute(
        select(DailyRollup).order_by(DailyRollup.store_id, DailyRollup.staff_key, DailyRollup.day)
    ).scalars()
    return [
        (r.store_id, r.staff_key, r.day, *(getattr(r, c) for c in COUNT_COLUMNS))
        for r in rows
        if any(getattr(r, c) for c in COUNT_COLUMNS)
    ]


def raw_totals(session):
    """The same figures straight from the raw tables, by a separate, simple route."""
    totals = {
        "issued": session.scalar(select(func.count()).select_from(Receipt)),
        "issued_answered": session.scalar(select(func.count(Receipt.answered_at))),
        "responses": session.scalar(select(func.count()).select_from(Response)),
        "problems": session.scalar(
            select(func.count()).select_from(Response).where(Response.problem_reported)
        ),
    }
    for score in range(11):
        totals[f"nps_{score}"] = session.scalar(
            select(func.count()).select_from(Response).where(Response.nps == score)
        )
    for score in range(1, 6):
        totals[f"csat_{score}"] = session.scalar(
            select(func.count()).select_from(Response).where(Response.csat == score)
        )
    for key in RATINGS:
        column = getattr(Response, f"rating_{key}")
        totals[f"{key}_n"] = session.scalar(select(func.count(column)))
        totals[f"{key}_sum"] = session.scalar(select(func.coalesce(func.sum(column), 0)))
        totals[f"{key}_sumsq"] = session.scalar(select(func.coalesce(func.sum(column * column), 0)))
    return totals


def rollup_totals(session, model=DailyRollup):
    return {
        name: session.scalar(select(func.coalesce(func.sum(getattr(model, name)), 0)))
        for name in COUNT_COLUMNS
    }


def grains_agree(session):
    """Store-day and store-month rows are exactly the sums of the staff-day rows."""
    by_day = {
        (r[0], r[1]): tuple(r[2:])
        for r in session.execute(
            select(
                DailyRollup.store_id,
                DailyRollup.day,
                *(func.sum(getattr(DailyRollup, c)) for c in COUNT_COLUMNS),
            ).group_by(DailyRollup.store_id, DailyRollup.day)
        )
    }
    store_days = {
        (r.store_id, r.day): tuple(getattr(r, c) for c in COUNT_COLUMNS)
        for r in session.scalars(select(StoreDailyRollup))
    }
    assert store_days == by_day
    months: dict = {}
    for (store_id, day), counts in by_day.items():
        key = (store_id, day.replace(day=1))
        months[key] = tuple(
            a + b for a, b in zip(months.get(key, (0,) * len(counts)), counts, strict=True)
        )
    store_months = {
        (r.store_id, r.month): tuple(getattr(r, c) for c in COUNT_COLUMNS)
        for r in session.scalars(select(StoreMonthlyRollup))
    }
    assert store_months == months


def test_rollups_equal_raw_aggregates_after_random_writes_and_after_rebuild(
    db_session, make_store, make_staff, make_receipt, make_response
):
    rng = random.Random(7)
    stores = [
        make_store(timezone=tz) for tz in ("Asia/Shanghai", "Europe/Berlin", "America/New_York")
    ]
    staff = {store.id: [make_staff(store) for _ in range(3)] for store in stores}
    now = utcnow()
    for _ in range(120):
        store = rng.choice(stores)
        cashier = rng.choice([*staff[store.id], None])
        issued_now = now - timedelta(hours=rng.uniform(0, 24 * 20))
        if rng.random() < 0.6:
            ratings = {f"rating_{k}": rng.randint(1, 5) for k in RATINGS if rng.random() < 0.7}
            category = rng.choice([None, None, "price", "checkout_wait"])
            nps, csat = rng.randint(0, 10), rng.randint(1, 5)
            delay = timedelta(hours=rng.uniform(0, 48))
            make_response(
                store,
                cashier,
                nps=nps,
                csat=csat,
                ratings=ratings,
                category=category,
                now=issued_now + delay,
                receipt_age=delay,
            )
        else:
            make_receipt(store, cashier, now=issued_now)
    db_session.flush()
    live = rollup_rows(db_session)
    assert rollup_totals(db_session) == raw_totals(db_session)
    assert raw_totals(db_session)["responses"] > 50
    grains_agree(db_session)

    rebuild_rollups(db_session)
    assert rollup_rows(db_session) == live
    assert rollup_totals(db_session) == raw_totals(db_session)
    grains_agree(db_session)


def test_a_response_counts_on_the_store_local_day(
    db_session, make_store, make_staff, make_response
):

    store = make_store(timezone="Asia/Shanghai")
    late_evening_utc = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Shanghai
    make_response(
        store,
        make_staff(store),
        nps=10,
        csat=5,
        now=late_evening_utc,
        receipt_age=timedelta(hours=2),
        locale="en",
    )
    rows = {r.day: r for r in db_session.scalars(select(DailyRollup))}
    assert rows[date(2026, 3, 2)].responses == 1 and rows[date(2026, 3, 2)].nps_10 == 1
    assert rows[date(2026, 3, 1)].issued == 1 and rows[date(2026, 3, 1)].issued_answered == 1


def test_rebuild_for_one_store_leaves_the_others(db_session, make_store, make_staff, make_receipt):
    a, b = make_store(), make_store()
    make_receipt(a, make_staff(a))
    make_receipt(b, make_staff(b))
    db_session.execute(DailyRollup.__table__.update().values(issued=99))
    rebuild_rollups(db_session, [a.id])
    issued = dict(db_session.execute(select(DailyRollup.store_id, DailyRollup.issued)).all())
    assert issued == {a.id: 1, b.id: 99}


def test_rebuild_rollups_cli(runner, db_session, make_store, make_staff, make_receipt):
    store = make_store("SH-009")
    make_receipt(store, make_staff(store))
    db_session.execute(DailyRollup.__table__.delete())
    result = runner.invoke(args=["rebuild-rollups", "--store", "SH-009"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt 1 rollup rows." in result.output
    assert db_session.scalar(select(DailyRollup.issued)) == 1
