"""The answer channels in words, and the one rule for reading a channel filter.

Every response records its channel (`portal.models.Channel`); the rollups count per
channel, so every figure can be limited to some channels or split by them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, true

from portal.models import Channel

#: In the order the pages list them.
CHANNELS: tuple[Channel, ...] = tuple(Channel)

CHANNEL_LABELS: dict[Channel, Any] = {
    Channel.RECEIPT: _l("Receipt QR code"),
    Channel.CODE: _l("Typed receipt code"),
    Channel.KIOSK: _l("In-store kiosk"),
    Channel.PAPER: _l("Paper card"),
    Channel.PHONE: _l("Phone return visit"),
}


def parse_channels(values: Iterable[str]) -> tuple[Channel, ...]:
    """The known channels among ``values`` (e.g. ``request.args.getlist("channel")`` or a
    comma-separated policy split), in the standard order; unknown names are ignored.
    An empty result means "every channel"."""
    wanted = {value.strip() for value in values}
    return tuple(channel for channel in CHANNELS if channel.value in wanted)


def channel_condition(column: Any, channels: Sequence[str]) -> ColumnElement[bool]:
    """The one SQL filter by channel: ``column IN (channels)``, or always true when
    ``channels`` is empty (every channel). ``column`` is any channel column: a rollup's,
    `QuestionDailyCount.channel` or `Response.channel`, e.g.
    ``select(...).where(channel_condition(StoreDailyRollup.channel, channels))``."""
    if not channels:
        return true()
    condition: ColumnElement[bool] = column.in_([str(channel) for channel in channels])
    return condition


def includes_funnel(channels: Sequence[str]) -> bool:
    """Whether figures limited to ``channels`` (empty: every channel) hold the receipt
    funnel: receipts issued and answered are counted under channel ``receipt`` alone,
    whichever channel answered them, so without it "issued" and the response rate would
    read 0 instead of "not applicable"."""
    return not channels or Channel.RECEIPT in channels


def unknown_channels(values: Iterable[str]) -> list[str]:
    """The values that name no channel (for inputs that refuse them rather than ignore
    them, such as the metrics API)."""
    known = {channel.value for channel in CHANNELS}
    return [value for value in values if value.strip() not in known]


def channel_label(value: str) -> str:
    """A stored channel in words (the value itself for one this version does not know)."""
    try:
        return str(CHANNEL_LABELS[Channel(value)])
    except ValueError:
        return value
