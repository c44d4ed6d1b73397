"""The store's service-level panel (portal.cases.service_level) on a worked example computed
by hand, its period bounds on the store's clock, and the partial that shows it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, render_template
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from analysis.results import Estimate
from portal.audit import Actor
from portal.calendar import Period, local_day, local_hour
from portal.cases.operations import (
    answer_follow_up,
    log_contact,
    open_case_manually,
    resolve_case,
    send_follow_up,
)
from portal.cases.service_level import ServiceLevel, period_bounds, service_level
from portal.errors import NotFound
from portal.models import Case, FollowUp, Receipt, Role, Store, User
from portal.rollups import (
    rebuild_rollups,
)
from tests.conftest import SETTINGS, default_version_id

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Monday 2 March to Sunday 8 March 2026, Shanghai days.
WEEK = Period(date(2026, 3, 2), date(2026, 3, 8))
#: Well after every deadline of the week.
LATER = datetime(2026, 3, 12, tzinfo=UTC)
ACTOR = Actor(label="manager")
HOUR = timedelta(hours=1)


def local(day: int, hour: int = 10, zone: ZoneInfo = SHANGHAI, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=zone).astimezone(UTC)


@pytest.fixture
def store(make_store: Callable[..., Store], make_user: Callable[..., User]) -> Store:
    shop = make_store("SH-001", name="徐汇店")
    make_user(Role.MANAGER, stores=[shop])
    return shop


def complaint(
    session: Session, store: Store, opened: datetime, *, phone: str | None = "13800138000"
) -> Case:
    return open_case_manually(
        session,
        SETTINGS,
        store=store,
        category="checkout_wait",
        summary="排队太久",
        staff_code=None,
        contact_name=None,
        contact_phone=phone,
        contact_email=None,
        consent=phone is not None,
        actor=ACTOR,
        now=opened,
    )


def contact(session: Session, case: Case, after: timedelta) -> None:
    log_contact(session, case, note="called", actor=ACTOR, now=case.opened_at + after)


def resolve(session: Session, case: Case, after: timedelta) -> None:
    resolve_case(
        session,
        case,
        resolution="apology",
        note="apologised",
        actor=ACTOR,
        now=case.opened_at + after,
    )


def follow_up(session: Session, case: Case, score: int) -> None:
    resolved_at = case.resolved_at
    assert resolved_at is not None
    send_follow_up(session, SETTINGS, case, actor=ACTOR, now=resolved_at)
    token_id = session.scalars(select(FollowUp.token_id).where(FollowUp.case_id == case.id)).one()
    answer_follow_up(session, token_id, score, now=resolved_at + 24 * HOUR)


def issue_receipts(session: Session, store: Store, count: int, first_day: date) -> None:
    """``count`` receipts spread over the week, as rows (issuing 1,000 one by one through
    the operation takes seconds), then the rollup rebuilt from them."""
    rows = []
    version_id = default_version_id(session)
    for i in range(count):
        issued = local(first_day.day + i % 7, 9 + i % 12)
        rows.append(
            {
                "token_id": f"tok{i:06d}",
                "short_code": f"SL{i:06d}",
                "store_id": store.id,
                "staff_id": None,
                "transaction_id": f"TX-{i:06d}",
                "issued_at": issued,
                "local_day": local_day(issued, store.timezone),
                "local_hour": local_hour(issued, store.timezone),
                "expires_at": issued + timedelta(days=30),
                "total_cents": 5000,
                "source": "test",
                "survey_version_id": version_id,
                "created_at": issued,
                "answered_at": None,
            }
        )
    session.execute(insert(Receipt.__table__), rows)
    rebuild_rollups(session, [store.id])


def test_the_worked_example(db_session: Session, store: Store) -> None:
    # Four cases opened in the week, each due 24 h later (still inside the week):
    #   A first contact after 2 h, resolved after 20 h, follow-up answered 5
    #   B first contact after 10 h, resolved after 30 h, follow-up answered 2
    #   C first contact after 30 h (late), still in progress
    #   D no contact yet, and past due by LATER
    a, b, c, d = (complaint(db_session, store, local(day)) for day in (2, 3, 4, 5))
    contact(db_session, a, 2 * HOUR)
    resolve(db_session, a, 20 * HOUR)
    follow_up(db_session, a, 5)
    contact(db_session, b, 10 * HOUR)
    resolve(db_session, b, 30 * HOUR)
    follow_up(db_session, b, 2)
    contact(db_session, c, 30 * HOUR)
    issue_receipts(db_session, store, 1000, WEEK.start)

    service = service_level(db_session, store.id, WEEK, now=LATER)

    assert service.cases_opened == 4
    # Within 24 h: A and B; C was late and D is past due unanswered -> 2 of 4 = 50 %.
    # Wilson 95 % for 2/4 from scipy.stats.binomtest(2, 4).proportion_ci("wilson"):
    # 0.150039, 0.849961.
    deadline = service.answered_within_deadline
    assert (deadline.value, deadline.n) == (50.0, 4)
    assert deadline.low == pytest.approx(15.0039, abs=1e-3)
    assert deadline.high == pytest.approx(84.9961, abs=1e-3)
    # Hours to first contact 2, 10, 30 (D has none): median 10 of n = 3.
    assert service.median_hours_to_first_response == Estimate(10.0, None, None, 3)
    # Hours to resolution 20 and 30: median 25 of n = 2.
    assert service.median_hours_to_resolution == Estimate(25.0, None, None, 2)
    # 4 cases over 1,000 receipts = 4.0 per 1,000; Wilson 95 % for 4/1000 from
    # scipy.stats.binomtest(4, 1000).proportion_ci("wilson"): 0.00155659, 0.01023956.
    rate = service.complaint_rate_per_1000
    assert (rate.value, rate.n) == (pytest.approx(4.0), 1000)
    assert rate.low == pytest.approx(1.55659, abs=1e-4)
    assert rate.high == pytest.approx(10.23956, abs=1e-4)
    # Follow-ups answered 5 and 2: one recovered of two = 50 %.
    assert (service.recovery_rate.value, service.recovery_rate.n) == (50.0, 2)
    assert service.recovery_rate.low == pytest.approx(9.4531, abs=1e-3)


def test_a_case_still_within_its_deadline_is_not_counted_yet(
    db_session: Session, store: Store
) -> None:
    waiting = complaint(db_session, store, local(6))
    answered_early = complaint(db_session, store, local(6, 12))
    contact(db_session, answered_early, HOUR)
    now = local(6, 20)
    service = service_level(db_session, store.id, WEEK, now=now)
    # The waiting case may still make it: only the answered one has an outcome.
    assert (service.answered_within_deadline.value, service.answered_within_deadline.n) == (
        100.0,
        1,
    )
    # Once its deadline has passed unanswered, it counts against the store.
    later = waiting.first_response_due_at + timedelta(seconds=1)
    service = service_level(db_session, store.id, WEEK, now=later)
    assert (service.answered_within_deadline.value, service.answered_within_deadline.n) == (
        50.0,
        2,
    )


def test_the_deadline_share_counts_cases_due_in_the_period(
    db_session: Session, store: Store
) -> None:
    # Opened the evening before the week and answered on time: due inside the week, so it
    # is the week's first-response result, while it was opened (and counted) before.
    before = complaint(db_session, store, local(1, 22))
    contact(db_session, before, 3 * HOUR)
    # Opened on the week's last evening: due after the week, so it is next week's.
    last = complaint(db_session, store, local(8, 22))
    service = service_level(db_session, store.id, WEEK, now=LATER)
    assert service.cases_opened == 1
    assert (service.answered_within_deadline.value, service.answered_within_deadline.n) == (
        100.0,
        1,
    )
    # The medians describe the cases opened in the week: the last one has no contact yet.
    assert service.median_hours_to_first_response.n == 0
    assert last.first_contact_at is None


def test_the_period_is_the_stores_own_days_across_daylight_saving(
    db_session: Session, make_store: Callable[..., Store]
) -> None:
    new_york = ZoneInfo("America/New_York")
    shop = make_store("NY-001", timezone="America/New_York")
    # 8 March 2026 in New York is 23 hours long (clocks go forward at 02:00).
    day = Period(date(2026, 3, 8), date(2026, 3, 8))
    start, end = period_bounds(day, shop.timezone)
    assert (start, end) == (
        datetime(2026, 3, 8, 5, tzinfo=UTC),
        datetime(2026, 3, 9, 4, tzinfo=UTC),
    )
    assert end - start == 23 * HOUR
    last_moment_before = datetime(2026, 3, 7, 23, 59, 59, tzinfo=new_york)
    inside = [
        datetime(2026, 3, 8, 0, 0, tzinfo=new_york),
        datetime(2026, 3, 8, 23, 59, 59, tzinfo=new_york),
    ]
    next_midnight = datetime(2026, 3, 9, 0, 0, tzinfo=new_york)
    for moment in (last_moment_before, *inside, next_midnight):
        complaint(db_session, shop, moment.astimezone(UTC))
    assert service_level(db_session, shop.id, day, now=LATER).cases_opened == 2


def test_only_the_stores_own_cases_count(
    db_session: Session, store: Store, make_store: Callable[..., Store]
) -> None:
    other = make_store("BJ-001")
    complaint(db_session, other, local(3))
    complaint(db_session, store, local(3))
    assert service_level(db_session, store.id, WEEK, now=LATER).cases_opened == 1
    assert service_level(db_session, other.id, WEEK, now=LATER).cases_opened == 1


def test_an_empty_period_has_no_figures_only_zero_n(db_session: Session, store: Store) -> None:
    service = service_level(db_session, store.id, WEEK, now=LATER)
    empty = Estimate(None, None, None, 0)
    assert service == ServiceLevel(
        cases_opened=0,
        answered_within_deadline=empty,
        median_hours_to_first_response=empty,
        median_hours_to_resolution=empty,
        complaint_rate_per_1000=empty,
        recovery_rate=empty,
    )


def test_counter_complaints_without_receipts_give_a_rate_without_interval(
    db_session: Session, store: Store
) -> None:
    issue_receipts(db_session, store, 2, WEEK.start)
    for day in (2, 3, 4):
        complaint(db_session, store, local(day))
    rate = service_level(db_session, store.id, WEEK, now=LATER).complaint_rate_per_1000
    assert rate == Estimate(1500.0, None, None, 2)


def test_an_unknown_store_is_not_found(db_session: Session) -> None:
    with pytest.raises(NotFound):
        service_level(db_session, 10**9, WEEK, now=LATER)


# --- the partial --------------------------------------------------------------------------


def card(html: str, card_id: str) -> str:
    match = re.search(rf'<div class="card figure" id="{card_id}">(.*?)</div>', html, re.S)
    assert match, card_id
    return match.group(1)


def test_the_panel_shows_every_figure_with_its_n_and_greys_small_ones(app: Flask) -> None:
    service = ServiceLevel(
        cases_opened=4,
        answered_within_deadline=Estimate(50.0, 15.0, 85.0, 4),
        median_hours_to_first_response=Estimate(10.0, None, None, 3),
        median_hours_to_resolution=Estimate(None, None, None, 0),
        complaint_rate_per_1000=Estimate(4.0, 1.56, 10.24, 1000),
        recovery_rate=Estimate(50.0, 9.45, 90.55, 2),
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_template("cases/_service_level.html", service=service, min_n=30)
    assert '<span class="metric-value">4</span>' in card(html, "service-cases-opened")
    deadline = card(html, "service-within-deadline")
    assert "50 %" in deadline and "15 – 85" in deadline and "n = 4" in deadline
    assert "small-n" in deadline
    first = card(html, "service-first-response")
    assert "10.0 h" in first and "n = 3" in first and "metric-ci" not in first
    assert "—" in card(html, "service-resolution") and "n = 0" in card(html, "service-resolution")
    rate = card(html, "service-complaint-rate")
    assert "4.0" in rate and "1.6 – 10.2" in rate and "n = 1000" in rate
    assert "small-n" not in rate  # 1,000 receipts are plenty
    assert "n = 2" in card(html, "service-recovery")
    assert "Recovery rate" in html


def test_the_panel_takes_the_pages_minimum_n(app: Flask) -> None:
    figure = Estimate(80.0, 60.0, 92.0, 12)
    empty = Estimate(None, None, None, 0)
    service = ServiceLevel(12, figure, figure, figure, figure, figure)
    with app.test_request_context():
        relaxed = render_template("cases/_service_level.html", service=service, min_n=10)
        default = render_template("cases/_service_level.html", service=service)
        blank = render_template(
            "cases/_service_level.html",
            service=ServiceLevel(0, empty, empty, empty, empty, empty),
        )
    assert "small-n" not in relaxed
    assert default.count('class="metric small-n"') == 5  # below the default of 30
    assert blank.count("n = 0") == 5
