"""The answer channels in words, and the one rule for reading a channel filter.

Every response records its channel (`portal.models.Channel`); the rollups count per
channel, so every figure can be limited to some channels or split by them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l

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
