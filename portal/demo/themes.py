"""The demo's comment themes: the bulk-inserted answers never pass the answer kernel, so
their comments are classified here in batches, as ``reclassify-comments`` would."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from portal.themes.classify import reclassify_batch


def classify_demo_comments(session: Session, *, now: datetime) -> int:
    """Classify every demo comment not yet classified; returns how many. Flushes."""
    done, after_id = 0, 0
    while True:
        batch = reclassify_batch(session, after_id=after_id, size=2_000, now=now)
        if not batch.count:
            return done
        done, after_id = done + batch.count, batch.last_id
