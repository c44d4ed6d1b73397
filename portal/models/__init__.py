"""Typed models, one module per aggregate; importing this package registers them all."""

from portal.models.accounts import ApiKey, Role, User, user_stores
from portal.models.audit import AuditEntry
from portal.models.org import Staff, Store
from portal.models.receipts import Receipt, Response, ResponseContact, SurveyVersion

__all__ = [
    "ApiKey",
    "AuditEntry",
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
