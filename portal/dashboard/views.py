"""Store page, chain and region page, and their chart images."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from analysis.charts import SeriesPoint
from portal.access import requires, store_choices
from portal.calendar import Period, local_today
from portal.cases.service_level import service_level
from portal.dashboard import bp, charts, comments, queries, reports, version_compare
from portal.dashboard.channel_split import ChannelMix, requested_mix
from portal.dashboard.comments import CommentFilter
from portal.dashboard.custom import survey_catalogs
from portal.dashboard.custom_report import custom_report
from portal.dashboard.series import series_breaks
from portal.db import get_session, utcnow
from portal.formatting import problem_label
from portal.i18n import current_locale
from portal.models import Role
from portal.pagination import requested_page
from portal.targets.scorecard import chain_targets, store_targets
from surveys.loader import receipt_survey

STORE_ROLES = (Role.ADMIN, Role.HR, Role.REVIEWER, Role.MANAGER, Role.CX)
CHAIN_ROLES = (Role.ADMIN, Role.HR, Role.REVIEWER, Role.CX)


def _store(code: str) -> Any:
    store = queries.visible_store(get_session(), current_user, code)
    if store is None:
        abort(404)  # the same answer for a store that does not exist and one not yours
    return store


def _period(zone: str | None) -> Period:
    args = request.args
    today = local_today(zone, utcnow())
    return reports.parse_period(args.get("days"), args.get("from"), args.get("to"), today)


def _channels() -> ChannelMix:
    """The channel filter, ``?channel=receipt&channel=code`` (none: every channel)."""
    return requested_mix(request.args.getlist("channel"))


def _only() -> str:
    """The filter by answer, ``?only=question_key:value`` (see `portal.dashboard.custom`)."""
    return request.args.get("only", "").strip()[:130]


def _rating_label(key: str) -> str:
    return receipt_survey().question(f"rating_{key}").text.get(current_locale())


@bp.get("/stores/<code>")
@requires(*STORE_ROLES)
def store(code: str) -> Any:
    store = _store(code)
    period, channels = _period(store.timezone), _channels()
    session = get_session()
    questions = comments.text_questions(session)
    filters = CommentFilter(
        text=request.args.get("q", "").strip()[:100],
        group=request.args.get("group", ""),
        category=request.args.get("category", ""),
        staff_code=request.args.get("staff", ""),
        question=comments.checked_question(request.args.get("question", ""), questions),
        channels=tuple(c.value for c in channels.chosen),
        theme=request.args.get("theme", "").strip()[:32],
        sentiment=request.args.get("sentiment", "").strip()[:8],
    )
    custom = custom_report(
        session,
        [store.id],
        period,
        only=_only(),
        zone=store.timezone,
        locale=current_locale(),
        channels=channels,
    )
    page = comments.comment_page(
        session, store.id, period, filters, requested_page(), 20, text_keys=questions.keys()
    )
    page = replace(page, items=comments.label_comments(session, page.items, current_locale()))
    report = reports.store_report(session, store, period, channels)
    service = service_level(session, store.id, period, now=utcnow())
    return render_template(
        "dashboard/store.html",
        report=report,
        custom=custom,
        question_comments_url=lambda key: _comments_of(store.code, period, key, channels),
        service=service,
        targets=store_targets(session, store, period, report.headline, service),
        filters=filters,
        page=page,
        min_n=reports.MIN_N,
        period_choices=reports.PERIOD_CHOICES,
        rating_label=_rating_label,
        categories=receipt_survey().question("problem_category").choices,
        text_questions=[(key, text.get(current_locale())) for key, text in questions.items()],
    )


def _comments_of(code: str, period: Period, question_key: str, channels: ChannelMix) -> str:
    """The store's comment search filtered to the answers to one text question."""
    args: dict[str, Any] = {"from": period.start.isoformat(), "to": period.end.isoformat()}
    args.update(channels.args)
    return url_for("dashboard.store", code=code, question=question_key, _anchor="comments", **args)


@bp.get("/stores/<code>/<any(nps, csat):metric>.svg")
@requires(*STORE_ROLES)
def store_trend(code: str, metric: str) -> Any:
    store = _store(code)
    session, period, chosen = get_session(), _period(store.timezone), _channels().chosen
    points = reports.trend(session, [store.id], period, chosen)
    breaks = series_breaks(session, [store.id], period, store.timezone, chosen)
    return _trend(points, metric, _break_at(points, period, breaks))


@bp.get("/chain/<any(nps, csat):metric>.svg")
@requires(*CHAIN_ROLES)
def chain_trend(metric: str) -> Any:
    session = get_session()
    region = request.args.get("region") or None
    ids = queries.visible_store_ids_in(session, current_user, region)
    period, chosen = _period(None), _channels().chosen
    points = reports.trend(session, ids, period, chosen)
    breaks = series_breaks(session, ids, period, None, chosen)
    return _trend(points, metric, _break_at(points, period, breaks))


def _break_at(points: list[Any], period: Period, breaks: Any) -> float | None:
    """Where the trend marks the latest scoring-series break of the period, if any."""
    days = [b.day for b in breaks]
    return reports.break_position(points, period, max(days)) if days else None


def _trend(points: list[Any], metric: str, break_at: float | None = None) -> Any:
    if metric == "nps":
        series = [SeriesPoint(p.label, p.nps) for p in points]
        labels = (_("NPS with its 95 % CI"), _("NPS (−100 to 100)"), (-100.0, 100.0))
    else:
        series = [SeriesPoint(p.label, p.csat) for p in points]
        labels = (_("CSAT with its 95 % CI"), _("Satisfied, 4–5 (%)"), (0.0, 100.0))
    return charts.svg_response(
        charts.trend_svg(
            series,
            title=labels[0],
            y_label=labels[1],
            y_range=labels[2],
            empty_text=_("No answers in this period"),
            small_n_text=_("fewer than %(n)s answers", n=reports.MIN_N),
            min_n=reports.MIN_N,
            break_at=break_at,
            break_text=_("new NPS/CSAT wording") if break_at is not None else "",
        )
    )


@bp.get("/stores/<code>/drivers.svg")
@requires(*STORE_ROLES)
def store_drivers(code: str) -> Any:
    store = _store(code)
    drivers = reports.store_drivers(
        get_session(), store, _period(store.timezone), _channels().chosen
    )
    bars = [(_rating_label(d.key), d.rho) for d in drivers]
    return charts.svg_response(
        charts.driver_svg(
            bars,
            title=_("What moves likelihood to recommend"),
            x_label=_("Spearman ρ with likelihood to recommend (95 % CI)"),
        )
    )


@bp.get("/stores/<code>/categories.svg")
@requires(*STORE_ROLES)
def store_categories(code: str) -> Any:
    store = _store(code)
    shares = reports.store_categories(
        get_session(), store, _period(store.timezone), _channels().chosen
    )
    locale = current_locale()
    bars = [(problem_label(c.key, locale), c.share) for c in shares]
    return charts.svg_response(
        charts.category_svg(
            bars, title=_("What went wrong"), x_label=_("Share of reported problems (%)")
        )
    )


@bp.get("/chain")
@requires(*CHAIN_ROLES)
def chain() -> Any:
    session = get_session()
    region = request.args.get("region") or None
    period, channels = _period(None), _channels()
    custom = custom_report(
        session,
        queries.visible_store_ids_in(session, current_user, region),
        period,
        only=_only(),
        zone=None,
        locale=current_locale(),
        channels=channels,
    )
    report = reports.chain_report(session, current_user, period, region, channels)
    rows = list(report.rows)
    sort = request.args.get("sort", "nps")
    rows.sort(key=_sort_key(sort), reverse=sort in ("nps", "csat", "n"))
    return render_template(
        "dashboard/chain.html",
        report=report,
        rows=rows,
        targets=chain_targets(session, report, region),
        sort=sort,
        regions=queries.regions(session, current_user),
        custom=custom,
        min_n=reports.MIN_N,
        period_choices=reports.PERIOD_CHOICES,
    )


@bp.get("/dashboard/compare")
@requires(*STORE_ROLES)
def compare_versions() -> Any:
    """Two versions of a survey side by side (an A/B test): ``?survey=&a=&b=`` with an
    optional ``store`` code and period; without a survey, only the form."""
    session, args = get_session(), request.args
    code = args.get("store", "").strip()
    store = _store(code) if code else None
    comparison = None
    if args.get("survey"):
        asked = version_compare.parse_request(
            session, args.get("survey", ""), args.get("a", ""), args.get("b", "")
        )
        comparison = version_compare.compare_versions(
            session,
            current_user,
            asked,
            store,
            _period(store.timezone if store else None),
            current_locale(),
            _channels(),
        )
    return render_template(
        "dashboard/compare_versions.html",
        comparison=comparison,
        channels=_channels() if comparison is None else comparison.channels,
        surveys=survey_catalogs(session, None),
        stores=store_choices(session, current_user, blank=_("All the stores I can see")),
        period=_period(None) if comparison is None else comparison.period,
        min_n=reports.MIN_N,
    )


def _sort_key(sort: str) -> Any:
    def key(row: reports.ChainRow) -> tuple[Any, ...]:
        ranked = row.headline.ranked
        if sort == "csat":
            return (ranked, row.headline.csat.value if ranked else -1.0)
        if sort == "n":
            return (row.totals.responses,)
        if sort == "code":
            return (row.store.code,)
        # Stores below the minimum n sort after every ranked store, whatever their NPS.
        return (ranked, row.headline.nps.value if ranked else -101.0)

    return key
