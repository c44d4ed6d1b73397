"""The demo build's plumbing: a progress bar fed in whole percents, and bulk Core inserts
for the rows that are too many to be ORM objects (receipts, responses, contacts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from portal.db import Base

_CHUNK = 5_000


class Progress:
    """Turns "this far through the work" into whole-percent increments summing to 100."""

    __slots__ = ("_callback", "_reported")

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self._callback = callback
        self._reported = 0

    def reach(self, percent: float) -> None:
        target = min(100, int(percent))
        if target > self._reported:
            if self._callback is not None:
                self._callback(target - self._reported)
            self._reported = target


def insert_rows(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    report: Progress,
    *,
    start: float,
    width: float,
) -> None:
    # A Core insert of the table, not the ORM bulk insert: the ORM leaves out None values
    # of columns with defaults, splitting rows into runs of different keys, which on
    # PostgreSQL became one statement per few rows. Core makes one executemany per chunk,
    # and the UTCDateTime columns still convert the aware datetimes for the backend.
    table = Base.metadata.tables[model.__tablename__]
    for offset in range(0, len(rows), _CHUNK):
        session.execute(insert(table), rows[offset : offset + _CHUNK])
        report.reach(start + width * min(len(rows), offset + _CHUNK) / len(rows))
    report.reach(start + width)
