"""The themes page (each theme's share of a month's comments, against the month before)
and the comments of one theme across the stores of a region or the chain."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.access import requires, store_choices
from portal.calendar import Period, month_key
from portal.dashboard.channel_split import ChannelMix, requested_mix
from portal.dashboard.queries import regions
from portal.dashboard.reports import MIN_N
from portal.db import get_session, utcnow
from portal.errors import NotFound
from portal.models import Role, Sentiment
from portal.pagination import paginate, requested_page
from portal.themes import bp
from portal.themes.figures import Trend, theme_report
from portal.themes.queries import mentions_of, theme_comments
from portal.themes.scope import ThemeScope, month_period, theme_scope
from portal.themes.words import SENTIMENT_LABELS, THEMES, theme_label

THEME_ROLES = (Role.ADMIN, Role.HR, Role.REVIEWER, Role.MANAGER, Role.CX)

#: A theme's share against the month before, in words (the p-value goes in the details).
TREND_WORDS: dict[Trend, Any] = {
    Trend.RISING: _l("rising"),
    Trend.FALLING: _l("falling"),
    Trend.NO_CLEAR_CHANGE: _l("no clear change"),
    Trend.NOT_ENOUGH_DATA: _l("too few comments to tell"),
}


def _request_scope() -> tuple[ThemeScope, Period, ChannelMix]:
    session, args = get_session(), request.args
    scope = theme_scope(
        session, current_user, args.get("store", "").strip(), args.get("region", "").strip()
    )
    period = month_period(session, args.get("month", "").strip(), utcnow())
    return scope, period, requested_mix(args.getlist("channel"))


def comments_url(scope: ThemeScope, period: Period, channels: ChannelMix, theme: str) -> str:
    """Where a theme's comments are: one store's comment search filtered by the theme, or
    the theme's comments across the stores of a region or the chain."""
    args: dict[str, Any] = dict(channels.args, theme=theme)
    if scope.store is not None:
        args.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
        return url_for("dashboard.store", code=scope.store.code, _anchor="comments", **args)
    args.update(scope.args, month=month_key(period.start))
    return url_for("themes.comments", **args)


@bp.get("/themes")
@requires(*THEME_ROLES)
def index() -> Any:
    scope, period, channels = _request_scope()
    session = get_session()
    return render_template(
        "themes/index.html",
        scope=scope,
        report=theme_report(session, scope.store_ids, period, [c.value for c in channels.chosen]),
        month=month_key(period.start),
        channels=channels,
        comments_url=lambda theme: comments_url(scope, period, channels, theme),
        stores=store_choices(session, current_user, blank=_("All the stores I can see")),
        regions=regions(session, current_user),
        trend_words=TREND_WORDS,
        Trend=Trend,
        min_n=MIN_N,
    )


@bp.get("/themes/comments")
@requires(*THEME_ROLES)
def comments() -> Any:
    scope, period, channels = _request_scope()
    theme = request.args.get("theme", "")
    sentiment = request.args.get("sentiment", "")
    if theme not in THEMES or sentiment not in ("", *(s.value for s in Sentiment)):
        raise NotFound()
    session = get_session()
    stmt = theme_comments(
        scope.store_ids,
        theme,
        period,
        sentiment=sentiment,
        channels=[c.value for c in channels.chosen],
    )
    page = paginate(session, stmt, requested_page(), 20)
    return render_template(
        "themes/comments.html",
        scope=scope,
        theme=theme,
        sentiment=sentiment,
        month=month_key(period.start),
        channels=channels,
        page=page,
        items=mentions_of(page.items),
    )


def sentiment_label(key: str) -> str:
    """A sentiment in the current language (an unknown key as itself)."""
    known = key in {s.value for s in Sentiment}
    label = SENTIMENT_LABELS.get(Sentiment(key)) if known else None
    return key if label is None else str(label)


def template_globals() -> dict[str, Any]:
    return {"theme_label": theme_label, "sentiment_label": sentiment_label, "THEMES": THEMES}
