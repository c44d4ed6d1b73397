"""The chain page judges every store's weeks in one numpy pass (`laney_above`); its flags
are the ones the per-store charts (`laney_p_chart`, store by store, as the page did
before) give, on a small world of stores, weeks and channels."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from analysis.control_laney import laney_p_chart
from analysis.trends import week_start
from portal.calendar import Period, local_today
from portal.dashboard import queries, reports
from portal.db import utcnow
from portal.models import Role
from portal.models.rollups import StoreDailyRollup
from portal.rollups import sum_store_months


def _per_store_reference(session, user, period, channels=()):
    """The chain page's flags as computed before the batching: one chart per store over
    the weeks it has rows for."""
    judged_from = max(
        week_start(period.start),
        week_start(period.end) - timedelta(weeks=reports.JUDGED_WEEKS - 1),
    )
    first = judged_from - timedelta(weeks=reports.BASELINE_WEEKS)
    weekly = queries.weekly_detractors_by_store(session, user, Period(first, period.end), channels)
    flagged = {}
    for store_id, rows in weekly.items():
        weeks = {start: [d, n] for start, d, n in rows}
        baseline = [w for w in sorted(weeks) if w < judged_from]
        judged = [w for w in sorted(weeks) if w >= judged_from]
        base_n = sum(weeks[w][1] for w in baseline)
        if base_n < reports.MIN_N or not judged:
            continue
        centre = sum(weeks[w][0] for w in baseline) / base_n
        if not any(weeks[w][1] and weeks[w][0] / weeks[w][1] > centre for w in judged):
            continue
        chart = laney_p_chart(
            [weeks[w][0] for w in baseline + judged],
            [weeks[w][1] for w in baseline + judged],
            baseline=len(baseline),
        )
        labels = tuple(
            f"{w.isocalendar()[0]}-W{w.isocalendar()[1]:02d}"
            for w, point in zip(judged, chart.points[len(baseline) :], strict=True)
            if point.above
        )
        if labels:
            flagged[store_id] = labels
    return flagged


@pytest.fixture
def world(db_session, make_store):
    """Twelve stores over 20 weeks, two channels, each with its own pattern: steady,
    drifting (overdispersed), small weeks (exact tails), gaps, a jump in a judged week."""
    rng = np.random.default_rng(7)
    today = local_today(None, utcnow())
    monday = week_start(today)
    stores = [make_store(f"WK-{i:02d}", region="华东" if i % 2 else "华北") for i in range(12)]
    for i, store in enumerate(stores):
        size = [3, 12, 60, 400, 2000][i % 5]
        share = 0.05 + 0.03 * i
        for k in range(20):
            if i % 4 == 3 and k % 3 == 1:
                continue  # a week without any answer
            drift = 0.08 * (1 if k % 2 else -1) if i % 3 == 1 else 0.0
            jump = 0.35 if (i % 3 == 2 and k < 2) else 0.0
            p = min(1.0, max(0.0, share + drift + jump))
            for d, channel in enumerate(("receipt", "code")):
                day = monday - timedelta(weeks=k) + timedelta(days=d * 2)
                if day > today:
                    continue
                n = int(rng.integers(max(1, size // 2), size + 1))
                detractors = int(rng.binomial(n, p))
                db_session.add(
                    StoreDailyRollup(
                        store_id=store.id,
                        day=day,
                        channel=channel,
                        responses=n,
                        nps_2=detractors,
                        nps_9=n - detractors,
                        csat_5=n,
                    )
                )
    db_session.flush()
    sum_store_months(db_session)
    return stores, today


@pytest.mark.parametrize("days", [7, 30, 90, 365])
@pytest.mark.parametrize("channels", [(), ("receipt",), ("code",)])
def test_batched_flags_equal_the_per_store_charts(db_session, world, make_user, days, channels):
    _stores, today = world
    user = make_user(Role.ADMIN)
    period = Period(today - timedelta(days=days - 1), today)
    expected = _per_store_reference(db_session, user, period, channels)
    assert reports._weekly_detractors(db_session, user, period, channels) == expected
    if (days, channels) == (30, ()):
        assert expected, "the world should have flagged weeks"


def test_the_chain_page_shows_the_per_store_flags(client, db_session, world, make_user, login_as):
    stores, today = world
    admin = make_user(Role.ADMIN)
    period = Period(today - timedelta(days=29), today)
    expected = _per_store_reference(db_session, admin, period)
    login_as(admin)
    html = client.get("/chain?days=30", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for store in stores:
        row = html[html.index(f"{store.code} ") :]
        row = row[: row.index("</tr>")]
        shown = tuple(part.split("<")[0].strip() for part in row.split("⚑ ")[1:])
        assert shown == expected.get(store.id, ()), store.code


def test_a_store_of_another_scope_is_not_judged(db_session, world, make_user):
    stores, today = world
    manager = make_user(Role.MANAGER, stores=stores[:2])
    period = Period(today - timedelta(days=29), today)
    flags = reports._weekly_detractors(db_session, manager, period)
    assert set(flags) <= {stores[0].id, stores[1].id}
    assert flags == _per_store_reference(db_session, manager, period)


def test_no_store_with_a_baseline_gives_no_flags(db_session, make_user):
    user = make_user(Role.ADMIN)
    period = Period(date(2026, 1, 5), date(2026, 2, 1))
    assert reports._weekly_detractors(db_session, user, period) == {}
