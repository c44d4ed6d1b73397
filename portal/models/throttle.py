"""Throttling counters: one row per key and fixed time window (see ``portal/throttle.py``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base


class RateLimitHit(Base):
    """How many times ``key`` was counted in the window starting at ``window_start``."""

    __tablename__ = "rate_limit_hits"

    #: What is counted, e.g. ``login-ip:203.0.113.7`` (e-mails and addresses, no secrets).
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: The window's start in whole seconds since the epoch (UTC).
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer)
