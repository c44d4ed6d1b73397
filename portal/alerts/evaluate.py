"""The weekly check: every active rule judged on every store of its scope over the last
complete store-local week; each break becomes one `Alert`, mailed once to the store's
managers and the region's managers and shown on their home pages.

An alert is written once thanks to the database: UNIQUE(rule, store, week, signal), the
insert in a savepoint, an `IntegrityError` meaning another run (an earlier one, or another
worker at the same moment) already raised and mailed it. The rule's author is not mailed:
they are a chain-wide user who sees every alert on /alerts, and a mail per store would
bury them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.access import managers_of, region_managers
from portal.alerts.figures import (
    BASELINE_WEEKS,
    MONTHLY_MIN_N,
    last_complete_month,
    last_complete_week,
    weekly_counts,
)
from portal.alerts.signals import (
    EWMA_ABOVE,
    MONTH_THRESHOLD,
    Signal,
    month_threshold_signal,
    signals_of,
)
from portal.alerts.words import alert_sentence
from portal.cases.notify import queue_mail
from portal.config import Settings
from portal.i18n import MailText, in_languages, mail_translations
from portal.models import (
    Alert,
    AlertKind,
    AlertRecipient,
    AlertRule,
    Metric,
    Store,
    User,
)
from portal.targets.scorecard import scorecard
from portal.targets.words import METRIC_LABELS


def stores_of_rule(session: Session, rule: AlertRule) -> list[Store]:
    """The open stores a rule watches: one store, the stores of a region, or all."""
    stmt = select(Store).where(Store.closed_at.is_(None)).order_by(Store.id)
    if rule.store_id is not None:
        stmt = stmt.where(Store.id == rule.store_id)
    elif rule.region_id is not None:
        if rule.region is None:
            return []
        stmt = stmt.where(Store.region == rule.region.name)
    return list(session.scalars(stmt))


def alert_recipients(session: Session, store: Store) -> list[User]:
    """The active managers of ``store``: those linked to it and those of its region."""
    found = {u.id: u for u in managers_of(session, store.id)}
    if store.region:
        found.update((u.id, u) for u in region_managers(session, store.region))
    return [found[user_id] for user_id in sorted(found)]


def evaluate_alerts(session: Session, settings: Settings, *, now: datetime) -> list[Alert]:
    """Judge every active rule on its stores' last complete week (month, for the case and
    mystery metrics); write, address and mail the alerts not raised before. Flushes only;
    returns the new alerts."""
    raised: list[Alert] = []
    rules = session.scalars(
        select(AlertRule).where(AlertRule.active.is_(True)).order_by(AlertRule.id)
    ).all()
    for rule in rules:
        stores = stores_of_rule(session, rule)
        if not stores:
            continue
        if Metric(rule.metric) in MONTHLY_MIN_N:
            breaks = _monthly_breaks(session, settings, rule, stores, now)
        else:
            breaks = _weekly_breaks(session, rule, stores, now)
        for store, start, end, signal in breaks:
            alert = _raise_once(session, rule, store, (start, end), signal, now)
            if alert is not None:
                _address(session, settings, alert, store, now)
                raised.append(alert)
    session.flush()
    return raised


_Break = tuple[Store, date, date, Signal]


def _weekly_breaks(
    session: Session, rule: AlertRule, stores: list[Store], now: datetime
) -> list[_Break]:
    judged = {s.id: last_complete_week(s, now) for s in stores}
    first = min(judged.values()) - timedelta(weeks=BASELINE_WEEKS)
    series = weekly_counts(session, stores, first, max(judged.values()))
    breaks: list[_Break] = []
    for store in stores:
        week = judged[store.id]
        found = signals_of(
            Metric(rule.metric),
            AlertKind(rule.kind),
            rule.threshold,
            series.get(store.id, {}),
            week,
        )
        for signal in found:
            if not _run_already_told(session, rule, store, week, signal):
                breaks.append((store, week, week + timedelta(days=6), signal))
    return breaks


def _monthly_breaks(
    session: Session, settings: Settings, rule: AlertRule, stores: list[Store], now: datetime
) -> list[_Break]:
    metric = Metric(rule.metric)
    if rule.threshold is None:
        return []
    breaks: list[_Break] = []
    for store in stores:
        start, end = last_complete_month(store, now)
        figures = scorecard(session, settings, store_ids=[store.id], start=start, end=end, now=now)
        figure = next(f.estimate for f in figures if f.metric == metric)
        signal = month_threshold_signal(metric, rule.threshold, figure, MONTHLY_MIN_N[metric])
        if signal is not None:
            breaks.append((store, start, end, signal))
    return breaks


def _run_already_told(
    session: Session, rule: AlertRule, store: Store, week: date, signal: Signal
) -> bool:
    """Whether an EWMA alert already went out for this run of weeks above the limit
    (the statistic stays above for weeks after a shift: one alert per run)."""
    run = int(signal.detail.get("run_weeks", 1))
    if signal.signal != EWMA_ABOVE or run <= 1:
        return False
    earlier = select(Alert.id).where(
        Alert.rule_id == rule.id,
        Alert.store_id == store.id,
        Alert.signal == EWMA_ABOVE,
        Alert.period_start >= week - timedelta(weeks=run - 1),
        Alert.period_start < week,
    )
    return session.scalar(earlier.limit(1)) is not None


def _raise_once(
    session: Session,
    rule: AlertRule,
    store: Store,
    period: tuple[date, date],
    signal: Signal,
    now: datetime,
) -> Alert | None:
    alert = Alert(
        rule_id=rule.id,
        store_id=store.id,
        period_start=period[0],
        period_end=period[1],
        signal=signal.signal,
        value=signal.value,
        limit_value=signal.limit,
        n=signal.n,
        detail=dict(signal.detail),
        created_at=now,
    )
    alert.rule, alert.store = rule, store
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
    except IntegrityError:
        # Raised (and mailed) before, by an earlier run or another worker right now.
        return None
    return alert


def _address(
    session: Session, settings: Settings, alert: Alert, store: Store, now: datetime
) -> None:
    link = f"{settings.base_url}/stores/{store.code}"
    for user in alert_recipients(session, store):
        session.add(AlertRecipient(alert_id=alert.id, user_id=user.id, mailed_at=now))
        text = in_languages(user, lambda locale: _mail_text(alert, store, locale))
        queue_mail(
            session, to=user.email, subject=text.subject, body=f"{text.body}\n\n{link}", now=now
        )


def _mail_text(alert: Alert, store: Store, locale: str) -> MailText:
    _ = mail_translations(locale).gettext
    with force_locale(locale):
        metric = str(METRIC_LABELS[Metric(alert.rule.metric)])
    names = {
        "store": f"{store.code} {store.name}",
        "metric": metric,
        "week": alert.period_start.isoformat(),
        "month": alert.period_start.strftime("%Y-%m"),
        "rule": alert.rule.name,
    }
    if alert.signal == MONTH_THRESHOLD:
        subject = _("[Alert] %(store)s · %(metric)s · month %(month)s") % names
        lead = _("The rule “%(rule)s” found a break at %(store)s in the month %(month)s.") % names
    else:
        subject = _("[Alert] %(store)s · %(metric)s · week of %(week)s") % names
        lead = _("The rule “%(rule)s” found a break at %(store)s in the week of %(week)s.") % names
    return MailText(subject, "\n".join([lead, "", alert_sentence(alert, alert.rule.metric, _)]))
