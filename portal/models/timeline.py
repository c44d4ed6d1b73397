"""The columns every workflow timeline line has (a case's, a mystery visit's): who acted,
when, which kind of step, the state before and after, a note and structured details.
`portal.workflow` writes them; the timeline templates read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import intpk, utcnow


class TimelineEvent:
    """Mixin for one line of a timeline; the subclass adds its parent's key and table."""

    id: Mapped[intpk]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The actor's label as it was at the time (an e-mail, "cli", "system"), kept when the
    #: user is deleted.
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
