"""Reads for the sign-in area: recent failed sign-ins for admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from portal.auth.operations import FAILED_LOGIN
from portal.models import AuditEntry


def failed_logins() -> Select[Any]:
    """Failed sign-ins, newest first (each an audit entry with e-mail and address)."""
    return (
        select(AuditEntry)
        .where(AuditEntry.action == FAILED_LOGIN)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
