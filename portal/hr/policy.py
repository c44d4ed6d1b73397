"""The ranking policy HR sets: weights, thresholds, award scope, notice period and the
answer channels the ranking counts. Insert-only: `set_policy` adds the new row and its
audit entry; the newest row applies (`current_policy`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.ranking import RankingParameters
from portal.audit import Actor, record_audit
from portal.channels import parse_channels, unknown_channels
from portal.models import AwardScope, Channel, RankingPolicy

#: The answer channels a ranking counts unless HR's policy says otherwise: those where the
#: cashier is known from the receipt and the shopper answered unprompted.
DEFAULT_CHANNELS = f"{Channel.RECEIPT},{Channel.CODE}"

#: The policy in force before HR has saved one (reference §3.3 defaults).
DEFAULT_POLICY = RankingPolicy(
    customer_weight=0.5,
    mystery_weight=0.3,
    complaints_weight=0.2,
    min_n=20,
    top_fraction=0.10,
    baseline=-1.0,
    scope=AwardScope.REGION,
    notice_days=3,
    channels=DEFAULT_CHANNELS,
    changed_by="default",
)


def current_policy(session: Session) -> RankingPolicy:
    """The newest saved policy, or the defaults."""
    policy = session.scalar(select(RankingPolicy).order_by(RankingPolicy.id.desc()).limit(1))
    return policy or DEFAULT_POLICY


def policy_channels(policy: RankingPolicy) -> tuple[Channel, ...]:
    """The answer channels ``policy`` lets the ranking count (the default ones for a policy
    saved before channels existed, or one naming none this version knows)."""
    chosen = parse_channels((policy.channels or "").split(","))
    return chosen or parse_channels(DEFAULT_CHANNELS.split(","))


def parameters_of(policy: RankingPolicy) -> RankingParameters:
    return RankingParameters(
        weights=(policy.customer_weight, policy.mystery_weight, policy.complaints_weight),
        min_n=policy.min_n,
        top_fraction=policy.top_fraction,
        baseline=policy.baseline,
    )


@dataclass(frozen=True, slots=True)
class PolicyValues:
    """What HR sets (the form's data, already checked for shape)."""

    customer_weight: float
    mystery_weight: float
    complaints_weight: float
    min_n: int
    top_fraction: float
    baseline: float
    scope: str
    notice_days: int
    #: The answer channels counted, comma-separated (`portal.models.Channel` values).
    channels: str = DEFAULT_CHANNELS


def set_policy(
    session: Session, values: PolicyValues, *, actor: Actor, now: datetime
) -> RankingPolicy:
    """Insert a new ranking policy (the newest applies) and its audit entry; flushed, not
    committed.

    Raises
    ------
    ValueError
        The values do not make valid ranking parameters (e.g. every weight 0); nothing is
        added.
    """
    policy = RankingPolicy(**asdict(values), changed_by=actor.label[:100], changed_at=now)
    parameters_of(policy)  # the analysis layer's own checks, before anything is written
    if values.scope not in set(AwardScope) or not 1 <= values.notice_days <= 30:
        raise ValueError("scope must be region, store or chain and notice days 1-30")
    named = [c for c in values.channels.split(",") if c.strip()]
    if not named or unknown_channels(named):
        raise ValueError("channels must name at least one channel, each a known one")
    # Stored in the standard order, so that the history compares like with like.
    policy.channels = ",".join(c.value for c in parse_channels(named))
    session.add(policy)
    session.flush()
    record_audit(
        session, actor, "ranking_policy.set", "ranking_policy", policy.id, now, **asdict(values)
    )
    return policy
