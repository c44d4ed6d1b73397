"""The answer channel as a dimension of the dashboards: which channels a page's figures are
limited to (the ``channel`` query arguments), how many answers of each channel those
figures hold (the "Mixed channels: …" note), and NPS and CSAT per channel (the split
table). The SQL filter itself is `portal.channels.channel_condition`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from analysis.csat import csat_interval
from analysis.nps import nps_interval
from analysis.results import Estimate
from portal.channels import CHANNELS, includes_funnel, parse_channels
from portal.dashboard.queries import Totals
from portal.models import Channel


@dataclass(frozen=True, slots=True)
class ChannelMix:
    """The channel filter of a page and the answers of each channel its figures hold."""

    #: The channels ticked; empty for every channel.
    chosen: tuple[Channel, ...] = ()
    #: (channel, answers) of the channels with answers among the figures, standard order.
    counts: tuple[tuple[Channel, int], ...] = ()

    @property
    def mixed(self) -> bool:
        """The figures hold answers of more than one channel (the page says so)."""
        return len(self.counts) > 1

    @property
    def funnel(self) -> bool:
        """The receipt funnel (issued, response rate) applies under this filter."""
        return includes_funnel(self.chosen)

    @property
    def args(self) -> dict[str, list[str]]:
        """The filter as query arguments for ``url_for`` (nothing for every channel)."""
        return {"channel": [c.value for c in self.chosen]} if self.chosen else {}

    @property
    def choices(self) -> tuple[Channel, ...]:
        """Every channel, for the filter's tick boxes."""
        return CHANNELS

    def counted(self, counts: Mapping[str, int]) -> ChannelMix:
        """The same filter with the answers ``counts`` per channel (zeros left out)."""
        return ChannelMix(self.chosen, counts_in_order(counts))


def requested_mix(values: Iterable[str]) -> ChannelMix:
    """The filter of the ``channel`` query arguments (unknown names are ignored)."""
    return ChannelMix(parse_channels(values))


def counts_in_order(counts: Mapping[str, int]) -> tuple[tuple[Channel, int], ...]:
    """The channels with answers, in the standard order."""
    return tuple((c, int(counts[c.value])) for c in CHANNELS if counts.get(c.value, 0) > 0)


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """One line of the split by channel: its answers, NPS and CSAT with their intervals."""

    channel: Channel
    n: int
    nps: Estimate
    csat: Estimate


def channel_rows(by_channel: Mapping[str, Totals]) -> tuple[ChannelRow, ...]:
    """NPS and CSAT of each channel with answers, in the standard order."""
    return tuple(
        ChannelRow(
            channel=c,
            n=totals.responses,
            nps=nps_interval(totals.nps),
            csat=csat_interval(totals.csat_top2, totals.csat_n),
        )
        for c in CHANNELS
        if (totals := by_channel.get(c.value)) is not None and totals.responses > 0
    )


def answers_of(by_channel: Mapping[str, Totals]) -> dict[str, int]:
    """Answers per channel of per-channel totals."""
    return {channel: totals.responses for channel, totals in by_channel.items()}


def summed(by_channel: Mapping[str, Totals]) -> Totals:
    """The totals of every channel together."""
    return sum(by_channel.values(), Totals())
