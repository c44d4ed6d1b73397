"""The weekly alert check (portal.alerts.evaluate): thresholds, control-chart signals,
sent once however often or however concurrently it runs, to the right managers only."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.alerts.evaluate import evaluate_alerts
from portal.alerts.rules import RuleFields, create_rule
from portal.audit import CLI
from portal.auth.operations import create_user
from portal.db import writer
from portal.models import (
    Alert,
    AlertRecipient,
    Case,
    OutboxMessage,
    Role,
    Store,
)
from portal.models.rollups import StoreDailyRollup
from tests.conftest import PASSWORD, SETTINGS

# A Wednesday: the last complete week in Shanghai is Monday 2026-05-11 .. Sunday 05-17.
NOW = datetime(2026, 5, 20, 4, tzinfo=UTC)
JUDGED = date(2026, 5, 11)


def put_week(
    session: Session,
    store: Store,
    monday: date,
    *,
    n: int,
    detractors: int,
    low_csat: int = 0,
    issued: int = 0,
) -> None:
    """One week of answers as the rollups hold them (on the week's Wednesday)."""
    session.add(
        StoreDailyRollup(
            store_id=store.id,
            day=monday + timedelta(days=2),
            channel="receipt",
            responses=n,
            issued=issued,
            nps_2=detractors,
            nps_9=n - detractors,
            csat_2=low_csat,
            csat_5=n - low_csat,
        )
    )
    session.flush()


def rule(session: Session, metric: str, kind: str, threshold: float | None = None, **scope):
    fields = RuleFields(f"{metric} {kind}", metric, kind, threshold, None, None)
    if scope:
        fields = RuleFields(fields.name, metric, kind, threshold, **scope)
    return create_rule(session, fields, actor=CLI, now=NOW)


def calm_weeks(session: Session, store: Store, *, n: int = 40, detractors: int = 4) -> None:
    for k in range(1, 27):
        put_week(session, store, JUDGED - timedelta(weeks=k), n=n, detractors=detractors)


def test_a_threshold_alert_is_raised_and_mailed_once_to_the_store_and_region_managers(
    app, db_session, make_store, make_user
):
    store = make_store("A-01", region="华东")
    other = make_store("B-01", region="华南")
    own = make_user(Role.MANAGER, stores=[store], locale="en")
    regional = make_user(Role.MANAGER, region="华东", locale="zh_CN")
    make_user(Role.MANAGER, stores=[other])
    make_user(Role.HR)
    rule(db_session, "nps", "threshold", 20.0)
    put_week(db_session, store, JUDGED, n=40, detractors=20)  # NPS 0
    put_week(db_session, other, JUDGED, n=40, detractors=2)  # NPS 90

    with app.app_context():
        first = evaluate_alerts(db_session, SETTINGS, now=NOW)
        again = evaluate_alerts(db_session, SETTINGS, now=NOW + timedelta(hours=24))

    assert [(a.store_id, a.signal, a.period_start) for a in first] == [
        (store.id, "threshold", JUDGED)
    ]
    assert again == []
    assert first[0].value == pytest.approx(0.0) and first[0].n == 40
    recipients = db_session.scalars(select(AlertRecipient.user_id)).all()
    assert sorted(recipients) == sorted([own.id, regional.id])
    mail = {m.to: m for m in db_session.scalars(select(OutboxMessage))}
    assert set(mail) == {own.email, regional.email}
    assert "[Alert] A-01" in mail[own.email].subject
    assert "below the threshold 20.0" in mail[own.email].body
    assert "/stores/A-01" in mail[own.email].body
    assert "低于阈值" in mail[regional.email].body


def test_a_threshold_needs_the_minimum_n(app, db_session, make_store, make_user):
    store = make_store()
    make_user(Role.MANAGER, stores=[store])
    rule(db_session, "csat", "threshold", 90.0)
    put_week(db_session, store, JUDGED, n=29, detractors=0, low_csat=29)
    with app.app_context():
        assert evaluate_alerts(db_session, SETTINGS, now=NOW) == []


def test_the_complaint_rate_counts_cases_per_receipt_issued(
    app, db_session, make_store, make_response
):
    store = make_store()
    rule(db_session, "complaint_rate", "threshold", 0.5)
    put_week(db_session, store, JUDGED, n=0, detractors=0, issued=400)
    # Three unhappy answers open three cases in the judged week (Wednesday 05-13).
    for _ in range(3):
        make_response(store, nps=1, csat=1, now=datetime(2026, 5, 13, 3, tzinfo=UTC))
    with app.app_context():
        [alert] = evaluate_alerts(db_session, SETTINGS, now=NOW)
    # 3 cases / 403 receipts (the three answers' own receipts count too).
    assert alert.value == pytest.approx(300 / 403)
    assert alert.n == 403


def test_a_bad_week_after_calm_weeks_raises_a_control_chart_alert(app, db_session, make_store):
    store = make_store()
    rule(db_session, "nps", "control_chart")
    calm_weeks(db_session, store)
    put_week(db_session, store, JUDGED, n=40, detractors=16)
    with app.app_context():
        alerts = evaluate_alerts(db_session, SETTINGS, now=NOW)
    signals = {a.signal: a for a in alerts}
    assert "laney_above" in signals
    laney = signals["laney_above"]
    assert laney.value == pytest.approx(40.0)
    assert laney.detail["center"] == pytest.approx(10.0)
    assert laney.detail["laney"] is False  # identical calm weeks: plain p limits


def test_large_weeks_that_drift_raise_no_alert_where_a_p_chart_would(app, db_session, make_store):
    # Baseline shares alternate 12 % / 18 % at n = 2000 (σ_z about 6.6); the judged week's
    # 19 % is past the plain p-chart limit (15 % + 3 × 0.8 %) but well inside p′'s.
    store = make_store()
    rule(db_session, "nps", "control_chart")
    for k in range(1, 27):
        put_week(
            db_session, store, JUDGED - timedelta(weeks=k), n=2000, detractors=240 + 120 * (k % 2)
        )
    put_week(db_session, store, JUDGED, n=2000, detractors=380)
    with app.app_context():
        assert evaluate_alerts(db_session, SETTINGS, now=NOW) == []


def test_a_sustained_small_rise_raises_one_ewma_alert_per_run(app, db_session, make_store):
    # Calm weeks at 10 % (n = 100), then 15 % every week from JUDGED - 2 on: no week is
    # past the p limit (10 % + 3 × 3 %), but the EWMA of z = 1.67 crosses its limit 0.953
    # in the shift's fourth week (1.67 × (1 - 0.8^4) = 0.98), i.e. the week after JUDGED,
    # and is told once while it stays above.
    store = make_store()
    rule(db_session, "nps", "control_chart")
    for k in range(1, 27):
        shifted = k <= 2
        put_week(
            db_session, store, JUDGED - timedelta(weeks=k), n=100, detractors=15 if shifted else 10
        )
    raised = []
    with app.app_context():
        for week in range(0, 5):
            put_week(db_session, store, JUDGED + timedelta(weeks=week), n=100, detractors=15)
            raised += [
                (a.signal, a.period_start)
                for a in evaluate_alerts(db_session, SETTINGS, now=NOW + timedelta(weeks=week))
            ]
    assert raised == [("ewma_above", JUDGED + timedelta(weeks=1))]


def test_a_rule_added_during_a_shift_still_tells_it_once(app, db_session, make_store):
    store = make_store()
    for k in range(1, 27):
        put_week(
            db_session, store, JUDGED - timedelta(weeks=k), n=100, detractors=15 if k <= 6 else 10
        )
    put_week(db_session, store, JUDGED, n=100, detractors=15)
    rule(db_session, "nps", "control_chart")
    with app.app_context():
        first = evaluate_alerts(db_session, SETTINGS, now=NOW)
        put_week(db_session, store, JUDGED + timedelta(weeks=1), n=100, detractors=15)
        later = evaluate_alerts(db_session, SETTINGS, now=NOW + timedelta(weeks=1))
    assert [a.signal for a in first] == ["ewma_above"]
    assert later == []


def test_two_checks_at_once_raise_one_alert_and_one_mail(make_app, fresh_engine):
    app = make_app(fresh_engine)
    with Session(fresh_engine) as session, session.begin():
        store = Store(code="C-01", name="门店", region="华东")
        session.add(store)
        session.flush()
        create_user(
            session,
            email="m@example.com",
            role="manager",
            password=PASSWORD,
            stores=[store],
            actor=CLI,
            now=NOW,
        )
        rule(session, "nps", "threshold", 20.0)
        put_week(session, store, JUDGED, n=40, detractors=20)

    bind = writer(fresh_engine)
    start = threading.Barrier(2, timeout=20)
    counts: list[int] = []
    errors: list[BaseException] = []

    def check() -> None:
        try:
            start.wait()
            with app.app_context(), Session(bind) as session, session.begin():
                counts.append(len(evaluate_alerts(session, SETTINGS, now=NOW)))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=check) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(counts) == [0, 1]
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert session.scalar(select(func.count()).select_from(AlertRecipient)) == 1


def test_a_case_metric_is_judged_on_the_last_complete_month_and_mailed_once(
    app, db_session, make_store, make_user
):
    # April 2026 is the last complete month on 20 May: 10 cases due, 4 answered in time.
    store = make_store("A-01")
    make_user(Role.MANAGER, stores=[store], locale="en")
    for k in range(10):
        opened = datetime(2026, 4, 3 + k, 2, tzinfo=UTC)
        db_session.add(
            Case(
                store_id=store.id,
                source="survey",
                opened_at=opened,
                first_response_due_at=opened + timedelta(hours=24),
                first_contact_at=opened + timedelta(hours=2) if k < 4 else None,
            )
        )
    db_session.flush()
    rule(db_session, "first_response", "threshold", 90.0)

    raised = evaluate_alerts(db_session, SETTINGS, now=NOW)
    again = evaluate_alerts(db_session, SETTINGS, now=NOW + timedelta(days=1))

    assert [(a.signal, a.period_start, a.period_end, a.n) for a in raised] == [
        ("threshold_month", date(2026, 4, 1), date(2026, 4, 30), 10)
    ]
    assert raised[0].value == pytest.approx(40.0)
    assert again == []
    mails = db_session.scalars(select(OutboxMessage)).all()
    assert len(mails) == 1 and mails[0].subject.endswith(
        "First response within the deadline · month 2026-04"
    )
    assert "The month's figure 40.0 is below the threshold 90.0 (n = 10)." in mails[0].body


def test_too_few_cases_in_the_month_raise_nothing(app, db_session, make_store, make_user):
    store = make_store("A-01")
    opened = datetime(2026, 4, 3, 2, tzinfo=UTC)
    db_session.add(
        Case(
            store_id=store.id,
            source="survey",
            opened_at=opened,
            first_response_due_at=opened + timedelta(hours=24),
        )
    )
    db_session.flush()
    rule(db_session, "first_response", "threshold", 90.0)
    assert evaluate_alerts(db_session, SETTINGS, now=NOW) == []
