"""Mystery-shop reports: a store's score trend, touchpoints and customer comparison, the
chain's touchpoint x store heat map with shopper reliability, and a printable visit report.

Shopper identities appear only for reviewers and admins: HR and store managers see what was
observed, never who observed it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from analysis.charts import SeriesPoint, heatmap_chart
from portal.access import requires
from portal.calendar import Period, local_today
from portal.dashboard import charts
from portal.dashboard.queries import regions, visible_store
from portal.dashboard.reports import MIN_N
from portal.db import get_session, utcnow
from portal.i18n import current_locale
from portal.models import RELEASED_STATES, MysteryVisit, Role, Store
from portal.mystery import bp, reports
from portal.mystery.forms import ANSWER_LABELS, DAYPART_LABELS, GRADE_LABELS, STATE_LABELS
from portal.mystery.queries import get_visit
from portal.mystery.visits import checklist_of, visit_answers
from portal.pagination import paginate, requested_page

STORE_ROLES = (Role.ADMIN, Role.REVIEWER, Role.HR, Role.MANAGER)
CHAIN_ROLES = (Role.ADMIN, Role.REVIEWER, Role.HR)
#: Who may see which shopper made a visit (reliability table, print page).
SHOPPER_ROLES = (Role.ADMIN, Role.REVIEWER)
PRINT_ROLES = (Role.MYSTERY, Role.MANAGER, Role.HR, Role.REVIEWER, Role.ADMIN)


def _labels() -> dict[str, Any]:
    return {
        "state_labels": STATE_LABELS,
        "grade_labels": GRADE_LABELS,
        "answer_labels": ANSWER_LABELS,
        "daypart_labels": DAYPART_LABELS,
        "min_visits": reports.MIN_VISITS,
        "min_months": reports.MIN_MONTHS,
        "min_n": MIN_N,
        "month_choices": reports.MONTH_CHOICES,
    }


def _store(code: str) -> Store:
    store = visible_store(get_session(), current_user, code)
    if store is None:
        abort(404)  # the same answer for a store that does not exist and one not yours
    return store


def _period(zone: str | None) -> tuple[int, Period]:
    months = reports.parse_months(request.args.get("months"))
    return months, reports.month_period(months, local_today(zone, utcnow()))


def _checklist_title(visit: MysteryVisit) -> str:
    return checklist_of(visit).title.get(current_locale())


@bp.get("/mystery/stores/<code>")
@requires(*STORE_ROLES)
def store(code: str) -> Any:
    store = _store(code)
    months, period = _period(store.timezone)
    session = get_session()
    page = paginate(session, reports.released_visits(store.id, period), requested_page(), 25)
    return render_template(
        "mystery/reports/store.html",
        report=reports.store_report(session, store, period),
        months=months,
        page=page,
        checklist_title=_checklist_title,
        **_labels(),
    )


@bp.get("/mystery/stores/<code>/trend.svg")
@requires(*STORE_ROLES)
def store_trend(code: str) -> Any:
    store = _store(code)
    _months, period = _period(store.timezone)
    by_month = reports.score_by_month(get_session(), [store.id], period)
    points = [
        SeriesPoint(label, by_month.get(label, reports.Moments()).estimate)
        for label in reports.month_labels(period)
    ]
    return charts.svg_response(
        charts.trend_svg(
            points if by_month else [],
            title=_("Mystery score with its 95 % CI"),
            y_label=_("Mean visit score (0–100)"),
            y_range=(0.0, 100.0),
            empty_text=_("No released visits in this period"),
            small_n_text=_("fewer than %(n)s visits", n=reports.MIN_VISITS),
            min_n=reports.MIN_VISITS,
        )
    )


def _chain_report() -> tuple[int, reports.ChainMysteryReport]:
    months, period = _period(None)
    region = request.args.get("region") or None
    return months, reports.chain_report(get_session(), current_user, period, region)


@bp.get("/mystery/chain")
@requires(*CHAIN_ROLES)
def chain() -> Any:
    session = get_session()
    months, report = _chain_report()
    shoppers = None
    if current_user.role in SHOPPER_ROLES:
        shoppers = reports.shopper_rows(session, current_user, report.period, report.region)
    return render_template(
        "mystery/reports/chain.html",
        report=report,
        months=months,
        shoppers=shoppers,
        regions=regions(session, current_user),
        min_compared=reports.MIN_COMPARED_VISITS,
        **_labels(),
    )


@lru_cache(maxsize=128)
def _heatmap_svg(
    rows: tuple[str, ...],
    columns: tuple[str, ...],
    values: tuple[tuple[float | None, ...], ...],
    counts: tuple[tuple[int, ...], ...],
    texts: tuple[str, str, str, str],
    min_n: int,
) -> bytes:
    title, desc, empty_text, small_n_text = texts
    return heatmap_chart(
        rows,
        columns,
        values,
        counts,
        title=title,
        desc=desc,
        empty_text=empty_text,
        min_n=min_n,
        small_n_text=small_n_text,
    )


@bp.get("/mystery/chain/heatmap.svg")
@requires(*CHAIN_ROLES)
def chain_heatmap() -> Any:
    _months, report = _chain_report()
    locale = current_locale()
    texts = (
        _("Mean section score by store and touchpoint"),
        _(
            "Released visits %(start)s – %(end)s; the same numbers are in the table below.",
            start=report.period.start,
            end=report.period.end,
        ),
        _("No released visits in this period"),
        _("grey: fewer than %(n)s visits", n=reports.MIN_VISITS),
    )
    return charts.svg_response(
        _heatmap_svg(
            tuple(f"{row.store.code} {row.store.name}" for row in report.rows),
            tuple(t.title.get(locale) for t in report.touchpoints),
            tuple(tuple(e.value for e in row.sections) for row in report.rows),
            tuple(tuple(e.n for e in row.sections) for row in report.rows),
            texts,
            reports.MIN_VISITS,
        )
    )


@bp.get("/mystery/visits/<int:visit_id>/print")
@requires(*PRINT_ROLES)
def print_report(visit_id: int) -> Any:
    visit = get_visit(get_session(), visit_id, visible_to=current_user)
    return render_template(
        "mystery/reports/print.html",
        visit=visit,
        definition=checklist_of(visit),
        answers=visit_answers(visit),
        sees_shopper=current_user.role in SHOPPER_ROLES,
        shows_score=visit.state in RELEASED_STATES or current_user.role in SHOPPER_ROLES,
        **_labels(),
    )
