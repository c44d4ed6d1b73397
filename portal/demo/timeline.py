"""Steps played in time order: the cases and the mystery visits of the demo are planned
first, each step queued at its own moment, then played through the real operations in the
order they would have happened, so that timelines, audit entries and the nightly or hourly
jobs see the portal as it was at that moment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime


class Timeline:
    """Actions queued at their times; ties keep the order they were queued in."""

    def __init__(self) -> None:
        self._steps: list[tuple[datetime, int, Callable[[], object]]] = []

    def __len__(self) -> int:
        return len(self._steps)

    def queue(self, when: datetime, action: Callable[[], object]) -> None:
        self._steps.append((when, len(self._steps), action))

    def play(self, progress: Callable[[float], None] | None, *, every: int = 64) -> None:
        """Run every action in time order; ``progress`` receives the share done, 0..1."""
        self._steps.sort(key=lambda step: (step[0], step[1]))
        total = len(self._steps)
        for index, (_when, _seq, action) in enumerate(self._steps):
            action()
            if progress is not None and index % every == 0:
                progress(index / total)
        if progress is not None:
            progress(1.0)
