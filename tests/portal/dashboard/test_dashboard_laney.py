"""The chain page's flagged weeks follow Laney's rule: at large n, weeks that drift more
than the binomial widen the limit (p′), so an ordinary week is not flagged where the plain
p-chart would flag it."""

from __future__ import annotations

from datetime import timedelta

from analysis.control import p_chart
from analysis.trends import week_start
from portal.calendar import local_today
from portal.db import utcnow
from portal.models import Role
from portal.models.rollups import StoreDailyRollup
from portal.rollups import sum_store_months


def _week(db_session, store, day, n, detractors):
    db_session.add(
        StoreDailyRollup(
            store_id=store.id,
            day=day,
            channel="receipt",
            responses=n,
            nps_2=detractors,
            nps_9=n - detractors,
            csat_5=n,
        )
    )


def test_large_drifting_weeks_are_not_flagged_where_a_p_chart_would_flag_them(
    client, db_session, make_store, make_user, login_as
):
    store = make_store("BIG-01")
    monday = week_start(local_today(None, utcnow()))
    # Twelve baseline weeks alternate 12 % and 18 % detractors at n = 2000 (σ_z ≈ 6.6),
    # then the four judged weeks; the newest is 19 %: past p̄ + 3 sqrt(p̄(1-p̄)/2000) =
    # 17.4 %, inside p′'s limit (about 31 %).
    for k in range(4, 16):
        _week(db_session, store, monday - timedelta(weeks=k), 2000, 240 if k % 2 else 360)
    for k, detractors in ((3, 300), (2, 300), (1, 300), (0, 380)):
        _week(db_session, store, monday - timedelta(weeks=k), 2000, detractors)
    db_session.flush()
    sum_store_months(db_session)
    assert p_chart([380], [2000], center=0.15)[0].above  # the plain chart would flag it

    login_as(make_user(Role.ADMIN))
    html = client.get("/chain?days=30", headers={"Accept-Language": "en"}).get_data(as_text=True)
    row = html[html.index("BIG-01 ") :]
    row = row[: row.index("</tr>")]
    assert "⚑" not in row
