"""Typed models, one module per aggregate; importing this package registers them all."""

from portal.models.accounts import ApiKey, ApiToken, Role, User, user_stores
from portal.models.audit import AuditEntry
from portal.models.awards import (
    Appeal,
    AppealOutcome,
    AwardCycle,
    AwardEvent,
    AwardScope,
    CycleState,
    Nomination,
    NominationSource,
    NominationState,
    RankingPolicy,
    SnapshotRow,
)
from portal.models.ballot import FlagRule, FlagState, ResponseFlag, ResponseOrigin
from portal.models.cases import (
    Case,
    CaseEvent,
    CaseState,
    FollowUp,
    OutboxMessage,
    Resolution,
    ReturnVisit,
)
from portal.models.mystery import (
    RELEASED_STATES,
    Daypart,
    DisputeOutcome,
    MysteryVisit,
    ReceiptCheck,
    StaffObservation,
    VisitDispute,
    VisitEvent,
    VisitState,
)
from portal.models.org import Region, Staff, Store, StoreFormat
from portal.models.receipts import Receipt, Response, ResponseContact, SurveyVersion
from portal.models.rollups import DailyRollup, StoreDailyRollup, StoreMonthlyRollup
from portal.models.throttle import RateLimitHit

__all__ = [
    "FlagRule",
    "FlagState",
    "ResponseFlag",
    "ResponseOrigin",
    "RateLimitHit",
    "Region",
    "StoreFormat",
    "Appeal",
    "AppealOutcome",
    "AwardCycle",
    "AwardEvent",
    "AwardScope",
    "CycleState",
    "Nomination",
    "NominationSource",
    "NominationState",
    "RankingPolicy",
    "SnapshotRow",
    "RELEASED_STATES",
    "Daypart",
    "DisputeOutcome",
    "MysteryVisit",
    "ReceiptCheck",
    "StaffObservation",
    "VisitDispute",
    "VisitEvent",
    "VisitState",
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
