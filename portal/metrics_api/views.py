"""``GET /api/v1/metrics/summary`` exactly as DESIGN.md section 4 gives it, with optional
``channel`` arguments that limit the figures to some answer channels."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from analysis.csat import csat_interval
from analysis.nps import nps_interval
from portal import throttle
from portal.access import public
from portal.api_tokens.operations import BadApiToken, user_for_api_token
from portal.calendar import local_today
from portal.channels import CHANNELS, parse_channels, unknown_channels
from portal.dashboard import queries, reports
from portal.db import get_session, utcnow
from portal.errors import DomainError
from portal.metrics_api import bp
from portal.models import Channel


class UnknownStore(DomainError):
    status = 404
    code = "unknown_store"


class UnknownChannel(DomainError):
    status = 400
    code = "unknown_channel"


def _channels() -> tuple[Channel, ...]:
    """The ``channel`` arguments (repeated, or comma-separated); none means every channel.

    Raises
    ------
    UnknownChannel
        A value that names no channel: refused rather than ignored, so that a typo never
        reads as the figures of every channel.
    """
    values = [v for arg in request.args.getlist("channel") for v in arg.split(",") if v.strip()]
    unknown = unknown_channels(values)
    if unknown:
        known = ", ".join(c.value for c in CHANNELS)
        raise UnknownChannel(
            f"Unknown channel {unknown[0]!r}; the channels are {known}.", field="channel"
        )
    return parse_channels(values)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@bp.get("/summary")
@public  # authenticated by the personal token below, not by a session
def summary() -> Any:
    session, address = get_session(), throttle.client_address()
    throttle.refuse_if_exhausted(throttle.BEARER, address)
    try:
        user = user_for_api_token(session, request.headers.get("Authorization"), utcnow())
    except BadApiToken:
        session.rollback()
        throttle.count_failure(throttle.BEARER, address)
        raise
    code = request.args.get("store", "")
    store = queries.visible_store(session, user, code)
    if store is None:
        # The same answer for a store that does not exist and one the user may not see.
        raise UnknownStore(
            f"No store {code!r} among the stores this token may read.", field="store"
        )
    args = request.args
    channels = _channels()
    # Without dates: the last 30 days, on the store's calendar.
    period = reports.parse_period(
        "30", args.get("from"), args.get("to"), local_today(store.timezone, utcnow())
    )
    totals = queries.totals(session, [store.id], period, channels)
    session.commit()  # keeps the token's last-used time
    nps = nps_interval(totals.nps)
    csat = csat_interval(totals.csat_top2, totals.csat_n)
    counts = totals.nps
    # Only a filtered answer names its channels: without, the body is as it always was.
    chosen = {"channels": [c.value for c in channels]} if channels else {}
    return jsonify(
        {
            **chosen,
            "store": store.code,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "n": counts.n,
            "promoters": counts.promoters,
            "passives": counts.passives,
            "detractors": counts.detractors,
            "nps": _round(nps.value),
            "nps_ci_low": _round(nps.low),
            "nps_ci_high": _round(nps.high),
            "csat_n": csat.n,
            "csat": _round(csat.value),
            "csat_ci_low": _round(csat.low),
            "csat_ci_high": _round(csat.high),
        }
    )
