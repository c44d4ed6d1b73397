"""The three ballot-stuffing rules, each defined here once with its settings
(``PORTAL_BALLOT_*``, read into `portal.config.Settings`); `portal.ballot.screening`
applies them to a submit. A limit of 0 turns a rule, or one part of the burst rule, off.

* **burst** — more than ``device_limit`` answers for one store or one staff member from
  one device (the client's address and browser), or more than ``network_limit`` from one
  network (IPv4 /24, IPv6 /48), within ``window``. The whole group is flagged, not only
  the answer that crossed the line. The network limit is the higher one: a store's Wi-Fi
  and a mobile carrier's NAT put many honest shoppers behind one network.
* **fast** — sent less than ``seconds`` after the receipt's code was made. That moment is
  the server's own clock (``receipts.created_at``): a receipt cannot be printed before
  its code exists, whereas the till's ``issued_at`` comes from a clock we do not keep.
* **pattern** — the same scores, choices and comment (normalised) as ``copies`` or more
  other answers for the same store or staff member within ``window``.

A counter tablet (`kiosk_rules_of`) is one device that every shopper at the counter
shares, and it has no network of its own: its burst limit is the kiosk's own
(``PORTAL_KIOSK_BURST``), and the network part is off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from portal.config import Settings


@dataclass(frozen=True, slots=True)
class BurstRule:
    device_limit: int
    network_limit: int
    window: timedelta

    def crossed(self, answers: int, limit: int) -> bool:
        """``answers`` in the window (this one included) are more than ``limit`` allows."""
        return limit > 0 and answers > limit


@dataclass(frozen=True, slots=True)
class FastRule:
    seconds: int

    def elapsed(self, printed_at: datetime, submitted_at: datetime) -> float | None:
        """Seconds from printing to the answer when that is too fast, else None."""
        elapsed = (submitted_at - printed_at).total_seconds()
        return elapsed if self.seconds > 0 and elapsed < self.seconds else None


@dataclass(frozen=True, slots=True)
class PatternRule:
    copies: int
    window: timedelta

    def crossed(self, answers: int) -> bool:
        """``answers`` identical ones in the window (this one included) mean this one has
        ``copies`` or more copies."""
        return self.copies > 0 and answers - 1 >= self.copies


@dataclass(frozen=True, slots=True)
class BallotRules:
    burst: BurstRule
    fast: FastRule
    pattern: PatternRule

    @property
    def look_back(self) -> timedelta:
        """How long a submit's origin is needed: the longest window of a rule."""
        return max(self.burst.window, self.pattern.window)


def rules_of(settings: Settings) -> BallotRules:
    return BallotRules(
        burst=BurstRule(
            device_limit=settings.ballot_burst_device,
            network_limit=settings.ballot_burst_network,
            window=timedelta(minutes=settings.ballot_burst_minutes),
        ),
        fast=FastRule(seconds=settings.ballot_fast_seconds),
        pattern=PatternRule(
            copies=settings.ballot_pattern_copies,
            window=timedelta(minutes=settings.ballot_pattern_minutes),
        ),
    )


def kiosk_rules_of(settings: Settings) -> BallotRules:
    """The rules for a counter tablet's answers: `rules_of` with the tablet's own burst
    limit, since a phone's three answers in ten minutes are a busy counter's normal."""
    rules = rules_of(settings)
    burst = replace(rules.burst, device_limit=settings.kiosk_burst, network_limit=0)
    return replace(rules, burst=burst)
