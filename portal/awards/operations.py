"""Service-star award cycles: opening a month (a frozen snapshot of the ranking and the
proposed nominations), HR decisions with reasons, nominations added by hand, publication
(公示), appeals during the notice period, and finalisation.

Rules (reference ``mystery-and-awards.md`` §3.6):

* one cycle per month, opened only once the month is over; its snapshot rows are written
  here and nowhere else, so later answers or disputes never rewrite a month;
* a rejection, and the approval of a nomination added by hand, need a written reason; the
  HR user who added a nomination by hand does not approve it; an appeal is answered by an
  HR user other than the one who decided the nomination (separation of duties);
* every decision is an `AwardEvent` in one append-only hash chain over the whole table
  (``hash = SHA-256(prev_hash ‖ canonical JSON of the event)``) and an audit entry.

Concurrency: each operation locks the cycle row (PostgreSQL ``FOR UPDATE``) before it
checks the cycle's state, and appending to the chain takes a transaction-wide lock before
it reads the chain's head (see `_append_event`), so two decisions at once queue instead of
both linking to the same previous event.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from analysis.ranking import Component, Ranking
from portal.audit import CLI, Actor, record_audit
from portal.calendar import chain_today, month_key, month_start, next_month
from portal.errors import Conflict, DomainError
from portal.hr.ranking import (
    SUBSTANTIATED_COMPLAINT,
    RankedStaff,
    current_policy,
    parameters_of,
    rank_month,
)
from portal.models import (
    Appeal,
    AppealOutcome,
    AwardCycle,
    AwardEvent,
    CycleState,
    Nomination,
    NominationSource,
    NominationState,
    RankingPolicy,
    Role,
    SnapshotRow,
    Staff,
    User,
    user_stores,
)

#: The previous hash of the first event of the chain.
GENESIS_HASH = "0" * 64
#: Reasons, justifications, appeals and answers: at least this many characters.
MIN_REASON_LENGTH = 10
#: Who decides nominations and answers appeals.
HR_ROLES = frozenset({Role.HR, Role.ADMIN})
#: The key of the PostgreSQL advisory lock that serialises appends to the award log
#: (any constant; "AWARDLOG" in ASCII).
LOG_LOCK_KEY = 0x4157_4152_444C_4F47
#: The parts of an event its hash covers. ``actor_user_id`` is left out on purpose: it is
#: set to NULL when a user is deleted, which must not break the chain (the actor's label,
#: their e-mail address, is covered).
HASHED_FIELDS = ("cycle_id", "nomination_id", "at", "actor", "kind", "reason", "details")


def _package_version() -> str:
    try:
        return metadata.version("receipt-feedback-portal")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


#: Stored with each snapshot: which code computed it.
CODE_VERSION = f"receipt-feedback-portal {_package_version()}"[:40]


class AwardRefused(DomainError):
    """The cycle or nomination is not in a state that allows this."""

    status = 409
    code = "award_refused"


class InvalidAward(DomainError):
    """A reason, justification or choice is missing or too short."""

    status = 400
    code = "invalid_award"


class NotAllowed(DomainError):
    """This user may not take this decision (separation of duties, or not their store)."""

    status = 403
    code = "award_not_allowed"


class CycleExists(Conflict):
    code = "award_cycle_exists"


def _require_text(value: str, field: str, message: Any) -> str:
    cleaned = (value or "").strip()
    if len(cleaned) < MIN_REASON_LENGTH:
        raise InvalidAward(message, field=field)
    return cleaned


def _require_hr(user: User) -> None:
    if user.role not in HR_ROLES or not user.active:
        raise NotAllowed(_l("Only HR may take award decisions."))


def _lock_cycle(session: Session, cycle: AwardCycle) -> AwardCycle:
    """Re-read the cycle with a row lock (PostgreSQL; SQLite's write lock is already held
    by the writer session), so that its state cannot change until this transaction ends."""
    session.flush()
    return session.scalars(
        select(AwardCycle)
        .where(AwardCycle.id == cycle.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _stale() -> AwardRefused:
    return AwardRefused(
        _l("This changed while you were looking at it. Check the page again and try again.")
    )


def _finite(value: float | None) -> float | None:
    """JSON has no NaN: a signal without data anywhere in the chain is stored as null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


# -- the hash-chained log ------------------------------------------------------------------


def event_content(event: AwardEvent) -> dict[str, Any]:
    """The fields of an event its hash covers, as JSON-ready values."""
    return {
        "cycle_id": event.cycle_id,
        "nomination_id": event.nomination_id,
        "at": event.at.astimezone(UTC).isoformat(),
        "actor": event.actor,
        "kind": event.kind,
        "reason": event.reason,
        "details": event.details,
    }


def event_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """SHA-256 over the previous event's hash followed by the canonical JSON of ``content``
    (sorted keys, no whitespace, UTF-8)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _lock_log(session: Session) -> None:
    # PostgreSQL: an advisory lock held until commit; the head read after it is the newest
    # committed one (READ COMMITTED). SQLite: the caller's flush just took the database's
    # write lock (or failed on a stale snapshot), which already excludes other writers.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOG_LOCK_KEY})


def _append_event(
    session: Session,
    cycle: AwardCycle,
    nomination: Nomination | None,
    actor: Actor,
    kind: str,
    now: datetime,
    *,
    reason: str = "",
    **details: Any,
) -> AwardEvent:
    """Append one event to the chain and write the matching audit entry."""
    try:
        # The caller's own changes first: on SQLite this takes the write lock, and a version
        # conflict shows up here, before anything is appended.
        session.flush()
    except StaleDataError:
        raise _stale() from None
    _lock_log(session)
    prev_hash = session.scalar(select(AwardEvent.hash).order_by(AwardEvent.id.desc()).limit(1))
    prev_hash = prev_hash or GENESIS_HASH
    event = AwardEvent(
        cycle_id=cycle.id,
        nomination_id=None if nomination is None else nomination.id,
        at=now,
        actor_user_id=actor.user_id,
        actor=actor.label,
        kind=kind,
        reason=reason,
        details=details,
        prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, event_content(event))
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        # The same content on the same head twice (the hash is unique): refuse the second.
        raise AwardRefused(
            _l("Another decision was recorded at the same moment. Please try again.")
        ) from None
    subject = (
        ("award_cycle", cycle.id) if nomination is None else ("award_nomination", nomination.id)
    )
    record_audit(
        session,
        actor,
        f"award.{kind}",
        subject[0],
        subject[1],
        now,
        month=month_key(cycle.month),
        reason=reason,
        **details,
    )
    return event


def verify_award_log(session: Session) -> list[int]:
    """The ids of the events that break the chain: an event whose stored hash does not
    match its content, or whose ``prev_hash`` is not the previous event's hash (an event
    was edited, deleted or inserted). Empty when the whole log is intact."""
    broken: list[int] = []
    expected_prev = GENESIS_HASH
    events = session.scalars(
        select(AwardEvent).order_by(AwardEvent.id).execution_options(yield_per=500)
    )
    for event in events:
        if event.prev_hash != expected_prev or event.hash != event_hash(
            event.prev_hash, event_content(event)
        ):
            broken.append(event.id)
        # Continue from the stored hash: one edited event is reported once, not with
        # every event after it.
        expected_prev = event.hash
    return broken


# -- opening a month -----------------------------------------------------------------------


def _component(component: Component) -> dict[str, Any]:
    return {
        "name": component.name,
        "estimate": _finite(component.estimate),
        "low": _finite(component.low),
        "high": _finite(component.high),
        "n": component.n,
        "omega": _finite(component.omega),
        "raw": _finite(component.raw),
        "z": _finite(component.z),
    }


def _reasons(reasons: Iterable[str]) -> list[str]:
    # The ranking joins the caller's exclusions with commas; the snapshot keeps them apart.
    found: list[str] = []
    for reason in reasons:
        for part in reason.split(","):
            if part and part not in found:
                found.append(part)
    return found


def _snapshot_row(cycle_id: int, ranked: RankedStaff) -> dict[str, Any]:
    staff, score = ranked.staff, ranked.score
    return {
        "cycle_id": cycle_id,
        "staff_id": staff.staff_id,
        "store_id": staff.store_id,
        "staff_code": staff.code,
        "staff_name": staff.name,
        "store_code": staff.store_code,
        "store_name": staff.store_name,
        "region": staff.region,
        "group": score.group,
        "rank": score.rank,
        "n": score.n,
        "composite": score.composite,
        "q10": score.q10,
        "q90": score.q90,
        "p_top": score.p_top,
        "eligible": score.eligible,
        "reasons": _reasons(score.ineligible_reasons),
        "proposed": score.proposed,
        "coaching": score.coaching,
        "components": [
            _component(c) for c in (score.customer, score.nps, score.mystery, score.complaints)
        ],
    }


def _parameters(policy: RankingPolicy, ranking: Ranking) -> dict[str, Any]:
    """Everything needed to recompute the month: the policy as applied and what the
    ranking estimated from the data (m, mystery spread, each signal's scale)."""
    parameters = ranking.parameters
    return {
        "policy_id": policy.id,
        "policy_changed_by": policy.changed_by,
        "scope": policy.scope,
        "notice_days": policy.notice_days,
        "weights": list(parameters.weights),
        "normalised_weights": list(parameters.normalised_weights()),
        "m": ranking.m,
        "m_source": ranking.m_source,
        "prior_strength": parameters.prior_strength,
        "store_prior_strength": parameters.store_prior_strength,
        "complaint_exposure": parameters.complaint_exposure,
        "min_n": parameters.min_n,
        "display_min_n": parameters.display_min_n,
        "top_fraction": parameters.top_fraction,
        "baseline": parameters.baseline,
        "mystery_sigma": ranking.mystery_sigma,
        "mystery_tau": ranking.mystery_tau,
        "draws": parameters.draws,
        "seed": parameters.seed,
        "scales": [
            {
                "name": s.name,
                "chain_mean": _finite(s.chain_mean),
                "tau": _finite(s.tau),
                "weight": _finite(s.weight),
                "n": s.n,
                "available": s.available,
            }
            for s in ranking.scales
        ],
        "weight_sensitivity": ranking.weight_sensitivity,
    }


def open_cycle(session: Session, month: date, *, actor: Actor, now: datetime) -> AwardCycle:
    """Open the award cycle of ``month``: rank the month with the current policy, freeze the
    result as snapshot rows (names and codes copied), record the parameters, the input
    digest and the code version, and create a pending nomination for every proposed staff
    member. The cycle starts in review.

    Raises
    ------
    AwardRefused
        The month is not over yet in every store.
    CycleExists
        The month already has a cycle (one per month, enforced by the database).
    """
    month = month_start(month)
    if chain_today(session, now) < next_month(month):
        raise AwardRefused(
            _l(
                "%(month)s is not over yet: a month's awards are opened after its last day.",
                month=month_key(month),
            )
        )
    policy = current_policy(session)
    result = rank_month(session, month, scope=policy.scope, parameters=parameters_of(policy))
    cycle = AwardCycle(
        month=month,
        scope=policy.scope,
        state=CycleState.IN_REVIEW,
        parameters=_parameters(policy, result.ranking),
        input_digest=result.input_digest,
        code_version=CODE_VERSION,
        prior_strength=result.ranking.m,
        opened_by=actor.label,
        opened_at=now,
    )
    try:
        with session.begin_nested():
            session.add(cycle)
    except IntegrityError:
        raise CycleExists(
            _l("The awards of %(month)s are already open.", month=month_key(month))
        ) from None
    if result.rows:
        # Thousands of rows: one executemany, not one ORM object each.
        session.execute(
            insert(SnapshotRow),
            [_snapshot_row(cycle.id, ranked) for ranked in result.rows],
        )
    proposed = [ranked for ranked in result.rows if ranked.score.proposed]
    for ranked in proposed:
        session.add(
            Nomination(
                cycle_id=cycle.id,
                staff_id=ranked.staff.staff_id,
                source=NominationSource.PROPOSED,
                state=NominationState.PENDING,
            )
        )
    session.flush()
    session.expire(cycle, ["rows", "nominations"])
    _append_event(
        session,
        cycle,
        None,
        actor,
        "opened",
        now,
        staff=len(result.rows),
        proposed=[ranked.staff.staff_id for ranked in proposed],
        input_digest=result.input_digest,
        code_version=CODE_VERSION,
    )
    return cycle


# -- HR review -----------------------------------------------------------------------------


def _in_review(session: Session, cycle: AwardCycle) -> AwardCycle:
    cycle = _lock_cycle(session, cycle)
    if cycle.state != CycleState.IN_REVIEW:
        raise AwardRefused(
            _l(
                "The awards of %(month)s are already published: decisions can only be "
                "changed through an appeal.",
                month=month_key(cycle.month),
            )
        )
    return cycle


def snapshot_row(session: Session, cycle: AwardCycle, staff_id: int) -> SnapshotRow | None:
    """A staff member's frozen row in the cycle's snapshot, if they are in it."""
    return session.scalar(
        select(SnapshotRow).where(
            SnapshotRow.cycle_id == cycle.id, SnapshotRow.staff_id == staff_id
        )
    )


def _details(nomination: Nomination, row: SnapshotRow | None, **more: Any) -> dict[str, Any]:
    return {
        "staff_id": nomination.staff_id,
        "staff_code": None if row is None else row.staff_code,
        "store_code": None if row is None else row.store_code,
        "source": nomination.source,
        **more,
    }


def decide_nomination(
    session: Session,
    nomination: Nomination,
    *,
    approve: bool,
    reason: str,
    reviewer: User,
    now: datetime,
    expected_version: int | None = None,
) -> Nomination:
    """Approve or reject a pending nomination while its cycle is in review.

    A rejection needs a reason, and so does approving a nomination added by hand; the HR
    user who added a nomination by hand may not approve or reject it.

    Raises
    ------
    InvalidAward
        The reason is missing or shorter than ``MIN_REASON_LENGTH`` (field ``reason``).
    NotAllowed
        The reviewer is not HR, or added this nomination themself.
    AwardRefused
        The cycle is published, the nomination is already decided, or it changed since
        ``expected_version``.
    """
    _require_hr(reviewer)
    cycle = _in_review(session, nomination.cycle)
    if expected_version is not None and nomination.version != expected_version:
        raise _stale()
    if nomination.state != NominationState.PENDING:
        raise AwardRefused(_l("This nomination is already decided."))
    if nomination.created_by_id is not None and nomination.created_by_id == reviewer.id:
        raise NotAllowed(
            _l(
                "You added this nomination yourself: another HR colleague has to decide it "
                "(separation of duties)."
            )
        )
    if not approve:
        reason = _require_text(
            reason, "reason", _l("Give the reason for the rejection (at least 10 characters).")
        )
    elif nomination.source == NominationSource.MANUAL:
        reason = _require_text(
            reason,
            "reason",
            _l("Say why this nomination added by hand is approved (at least 10 characters)."),
        )
    else:
        reason = (reason or "").strip()
    to_state = NominationState.APPROVED if approve else NominationState.REJECTED
    nomination.state = to_state
    nomination.decided_by_id = reviewer.id
    nomination.decided_at = now
    nomination.decision_reason = reason
    row = snapshot_row(session, cycle, nomination.staff_id)
    _append_event(
        session,
        cycle,
        nomination,
        Actor.of_user(reviewer),
        to_state,
        now,
        reason=reason,
        **_details(nomination, row, from_state=NominationState.PENDING, to_state=to_state),
    )
    return nomination


def add_nomination(
    session: Session,
    cycle: AwardCycle,
    staff: Staff,
    *,
    justification: str,
    actor: User,
    now: datetime,
) -> Nomination:
    """HR adds a staff member the ranking did not propose, with a written justification.
    The nomination is pending; another HR user decides it.

    Raises
    ------
    InvalidAward
        No justification (field ``justification``), or the staff member is not in the
        month's snapshot or is barred by a substantiated complaint (field ``staff``).
    NotAllowed
        The user is not HR.
    AwardRefused
        The cycle is published, or the staff member is already nominated.
    """
    _require_hr(actor)
    cycle = _in_review(session, cycle)
    justification = _require_text(
        justification,
        "justification",
        _l("Explain why this person deserves the award (at least 10 characters)."),
    )
    row = snapshot_row(session, cycle, staff.id)
    if row is None:
        raise InvalidAward(_l("This person is not in the month's ranking."), field="staff")
    if SUBSTANTIATED_COMPLAINT in row.reasons:
        # The "no responsible complaint" gate (一票否决) is not something HR can override.
        raise InvalidAward(
            _l("A substantiated complaint in the month bars this person from the award."),
            field="staff",
        )
    nomination = Nomination(
        cycle_id=cycle.id,
        staff_id=staff.id,
        source=NominationSource.MANUAL,
        state=NominationState.PENDING,
        justification=justification,
        created_by_id=actor.id,
    )
    try:
        with session.begin_nested():
            session.add(nomination)
    except IntegrityError:
        raise AwardRefused(_l("This person is already nominated this month.")) from None
    _append_event(
        session,
        cycle,
        nomination,
        Actor.of_user(actor),
        "nominated",
        now,
        reason=justification,
        **_details(nomination, row),
    )
    return nomination


def count_pending(session: Session, cycle: AwardCycle) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(Nomination)
        .where(Nomination.cycle_id == cycle.id, Nomination.state == NominationState.PENDING)
    )
    return int(count or 0)


def publish_cycle(
    session: Session,
    cycle: AwardCycle,
    *,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> AwardCycle:
    """Publish the month's decisions (公示): the notice period for appeals runs for the
    ``notice_days`` recorded with the cycle's parameters.

    Raises
    ------
    AwardRefused
        The cycle is already published, a nomination is still pending, or the cycle
        changed since ``expected_version``.
    """
    cycle = _in_review(session, cycle)
    if expected_version is not None and cycle.version != expected_version:
        raise _stale()
    pending = count_pending(session, cycle)
    if pending:
        raise AwardRefused(
            _l(
                "%(count)s nomination(s) still wait for a decision: approve or reject each "
                "one before publishing.",
                count=pending,
            )
        )
    days = int(cycle.parameters.get("notice_days") or current_policy(session).notice_days)
    cycle.state = CycleState.PUBLISHED
    cycle.published_at = now
    cycle.notice_until = now + timedelta(days=days)
    _append_event(
        session,
        cycle,
        None,
        actor,
        "published",
        now,
        notice_until=cycle.notice_until.isoformat(),
        approved=sorted(
            n.staff_id for n in cycle.nominations if n.state == NominationState.APPROVED
        ),
    )
    return cycle


# -- appeals -------------------------------------------------------------------------------


def manages_store(session: Session, user: User, store_id: int) -> bool:
    """Whether ``user`` is an active manager of the store."""
    if user.role != Role.MANAGER or not user.active:
        return False
    found = session.scalar(
        select(user_stores.c.store_id).where(
            user_stores.c.user_id == user.id, user_stores.c.store_id == store_id
        )
    )
    return found is not None


def appeal(
    session: Session, nomination: Nomination, *, manager: User, reason: str, now: datetime
) -> Appeal:
    """A store manager objects to a published decision about one of their staff, before
    the notice period ends.

    Raises
    ------
    NotAllowed
        The user is not a manager of the store the staff member was ranked in.
    InvalidAward
        No specific reason (field ``reason``).
    AwardRefused
        The cycle is not published, the notice period is over, or an earlier appeal on this
        nomination is still unanswered.
    """
    cycle = _lock_cycle(session, nomination.cycle)
    row = snapshot_row(session, cycle, nomination.staff_id)
    if row is None or not manages_store(session, manager, row.store_id):
        raise NotAllowed(_l("Only the manager of this person's store may appeal."))
    if cycle.state != CycleState.PUBLISHED:
        raise AwardRefused(_l("Appeals are possible while the decisions are on public notice."))
    if cycle.notice_until is None or now >= cycle.notice_until:
        raise AwardRefused(_l("The notice period is over: the decision can no longer be appealed."))
    if any(a.answered_at is None for a in nomination.appeals):
        raise AwardRefused(_l("An appeal on this decision is still waiting for HR's answer."))
    reason = _require_text(
        reason,
        "reason",
        _l("Say specifically what is wrong with the decision (at least 10 characters)."),
    )
    made = Appeal(nomination=nomination, raised_by_id=manager.id, raised_at=now, reason=reason)
    session.add(made)
    session.flush()
    _append_event(
        session,
        cycle,
        nomination,
        Actor.of_user(manager),
        "appealed",
        now,
        reason=reason,
        **_details(nomination, row, appeal_id=made.id, decision=nomination.state),
    )
    return made


def answer_appeal(
    session: Session,
    appeal: Appeal,
    *,
    hr_user: User,
    outcome: str,
    answer: str,
    now: datetime,
) -> Appeal:
    """HR answers an appeal: the decision ``stands``, or is ``changed`` (approved becomes
    rejected and rejected approved, with the answer as the new decision's reason). The
    answer comes from an HR user other than the one who took the contested decision.

    Raises
    ------
    InvalidAward
        Unknown outcome (field ``outcome``) or no answer (field ``answer``).
    NotAllowed
        The user is not HR, or took the contested decision.
    AwardRefused
        The appeal is already answered, or the cycle is final.
    """
    _require_hr(hr_user)
    nomination = appeal.nomination
    cycle = _lock_cycle(session, nomination.cycle)
    if cycle.state != CycleState.PUBLISHED:
        raise AwardRefused(_l("The awards of this month are final."))
    if appeal.answered_at is not None:
        raise AwardRefused(_l("This appeal is already answered."))
    if outcome not in set(AppealOutcome):
        raise InvalidAward(_l("Choose whether the decision stands or changes."), field="outcome")
    if nomination.decided_by_id == hr_user.id:
        raise NotAllowed(
            _l(
                "You took the decision under appeal: another HR colleague has to answer "
                "(separation of duties)."
            )
        )
    answer = _require_text(answer, "answer", _l("Explain the answer (at least 10 characters)."))
    from_state = nomination.state
    appeal.answered_by_id = hr_user.id
    appeal.answered_at = now
    appeal.outcome = outcome
    appeal.answer = answer
    if outcome == AppealOutcome.CHANGED:
        nomination.state = (
            NominationState.REJECTED
            if from_state == NominationState.APPROVED
            else NominationState.APPROVED
        )
        nomination.decided_by_id = hr_user.id
        nomination.decided_at = now
        nomination.decision_reason = answer
    row = snapshot_row(session, cycle, nomination.staff_id)
    _append_event(
        session,
        cycle,
        nomination,
        Actor.of_user(hr_user),
        "appeal_answered",
        now,
        reason=answer,
        **_details(
            nomination,
            row,
            appeal_id=appeal.id,
            outcome=outcome,
            from_state=from_state,
            to_state=nomination.state,
        ),
    )
    return appeal


# -- finalisation --------------------------------------------------------------------------


def finalise_due(session: Session, now: datetime, *, actor: Actor = CLI) -> list[AwardCycle]:
    """Published cycles whose notice period has ended become final (run from cron). A cycle
    with an unanswered appeal waits for the answer.

    Returns the cycles made final, oldest month first.
    """
    unanswered = (
        select(Appeal.id)
        .join(Nomination, Nomination.id == Appeal.nomination_id)
        .where(Nomination.cycle_id == AwardCycle.id, Appeal.answered_at.is_(None))
    )
    # Every due cycle is locked before the first event: the log lock always comes last.
    due = session.scalars(
        select(AwardCycle)
        .where(
            AwardCycle.state == CycleState.PUBLISHED,
            AwardCycle.notice_until <= now,
            ~unanswered.exists(),
        )
        .order_by(AwardCycle.month)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for cycle in due:
        cycle.state = CycleState.FINAL
        cycle.final_at = now
        _append_event(session, cycle, None, actor, "finalised", now)
    return list(due)
