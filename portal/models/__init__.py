"""Typed models, one module per aggregate; importing this package registers them all."""

from portal.models.accounts import ApiKey, ApiToken, Role, User, user_stores
from portal.models.audit import AuditEntry
from portal.models.cases import (
    Case,
    CaseEvent,
    CaseState,
    FollowUp,
    OutboxMessage,
    Resolution,
    ReturnVisit,
)
from portal.models.org import Staff, Store
from portal.models.receipts import Receipt, Response, ResponseContact, SurveyVersion
from portal.models.rollups import DailyRollup, StoreDailyRollup, StoreMonthlyRollup

__all__ = [
    "ApiKey",
    "ApiToken",
    "AuditEntry",
    "Case",
    "CaseEvent",
    "CaseState",
    "FollowUp",
    "OutboxMessage",
    "Resolution",
    "ReturnVisit",
    "DailyRollup",
    "StoreDailyRollup",
    "StoreMonthlyRollup",
    "Receipt",
    "Response",
    "ResponseContact",
    "Role",
    "Staff",
    "Store",
    "SurveyVersion",
    "User",
    "user_stores",
]
