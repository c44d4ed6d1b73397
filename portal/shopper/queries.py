"""Shopper reads: whether a browser is the one that answered a receipt."""

from __future__ import annotations

import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AuditEntry, Response
from portal.shopper.operations import SUBMITTED


def was_submitted_by(session: Session, response: Response, submitter: str) -> bool:
    """True when ``submitter`` (the browser fingerprint given to ``record_response``) is the
    one that sent ``response``."""
    # The entry is written with the response's own time: the indexed ``at`` finds it.
    recorded = session.scalars(
        select(AuditEntry.details).where(
            AuditEntry.at == response.submitted_at,
            AuditEntry.action == SUBMITTED,
            AuditEntry.subject_type == "response",
            AuditEntry.subject_id == str(response.id),
        )
    ).all()
    return any(hmac.compare_digest(str(d.get("browser", "")), submitter) for d in recorded)
