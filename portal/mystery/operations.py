"""Mystery-shopper visits, from scheduling to a final, locked report.

assigned -> accepted (or declined) -> submitted -> in review -> (returned -> submitted) ->
released to the store -> (disputed -> upheld or adjusted) -> final; rejected and cancelled
end a visit that will not count. ``ALLOWED`` is the whole state machine: every other move
is refused with a message. Each change is a timeline event and an audit entry, applied with
the row's version number so that two people acting at once cannot both apply a change made
for an old state. Only released reports (released, disputed, final) count in any score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from analysis.mystery import GradeBands, VisitScore, grade, subset_score
from portal.access import CHAIN_WIDE, visible_store_ids
from portal.audit import Actor, record_audit
from portal.calendar import local_today, zone
from portal.config import Settings
from portal.errors import DomainError, NotFound
from portal.models import (
    RELEASED_STATES,
    DisputeOutcome,
    MysteryVisit,
    Receipt,
    ReceiptCheck,
    Role,
    Staff,
    StaffObservation,
    Store,
    SurveyVersion,
    User,
    VisitDispute,
    VisitEvent,
    VisitState,
)
from portal.models.mystery import DAYPART_HOURS
from portal.mystery.photos import CleanPhoto, store_photo
from portal.mystery.scoring import score_answers
from portal.versions import publish_survey_version
from surveys.checklists import (
    Attribution,
    ChecklistAnswers,
    ChecklistDefinition,
    ItemAnswer,
    answers_from_json,
    answers_to_json,
    checklist_from_content,
    completeness_errors,
    get_checklist,
    merge_answers,
)

#: state -> the states it may move to.
ALLOWED: dict[str, frozenset[str]] = {
    VisitState.ASSIGNED: frozenset(
        {VisitState.ACCEPTED, VisitState.DECLINED, VisitState.CANCELLED}
    ),
    VisitState.ACCEPTED: frozenset({VisitState.SUBMITTED, VisitState.CANCELLED}),
    VisitState.DECLINED: frozenset(),
    VisitState.SUBMITTED: frozenset({VisitState.IN_REVIEW}),
    VisitState.IN_REVIEW: frozenset(
        {VisitState.RETURNED, VisitState.REJECTED, VisitState.RELEASED}
    ),
    VisitState.RETURNED: frozenset({VisitState.SUBMITTED}),
    VisitState.REJECTED: frozenset(),
    VisitState.RELEASED: frozenset({VisitState.DISPUTED, VisitState.FINAL}),
    VisitState.DISPUTED: frozenset({VisitState.FINAL}),
    VisitState.FINAL: frozenset(),
    VisitState.CANCELLED: frozenset(),
}

#: States in which the shopper may still change the report.
EDITABLE_STATES = frozenset({VisitState.ACCEPTED, VisitState.RETURNED})
#: A report filed later than this after the visit is flagged late.
SUBMIT_WITHIN = timedelta(hours=24)
#: A POS transaction up to this long after the shopper left still matches the visit.
RECEIPT_GRACE = timedelta(minutes=10)
#: The visit may start this long outside its daypart before it is flagged.
DAYPART_GRACE_HOURS = 1
#: Scores this extreme get a second look before release (reference §2.2 plausibility).
SUSPICIOUSLY_HIGH = 95.0
SUSPICIOUSLY_LOW = 70.0
#: Reasons, notes and dispute texts must say something.
MIN_REASON_CHARS = 10


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"


class InvalidVisit(DomainError):
    status = 400
    code = "invalid_visit"


class IncompleteReport(DomainError):
    """The report cannot be submitted yet; ``errors`` says what is missing, by field."""

    status = 400
    code = "incomplete_report"
    message = _l("The report is not complete yet. See the marked fields.")

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__()
        self.errors = dict(errors)


# -- reading -------------------------------------------------------------------------------


def visible_visits(user: User) -> Select[tuple[MysteryVisit]]:
    """The visits ``user`` may open: the one place that decides it.

    A shopper sees only their own assignments; a store manager only released reports of
    their stores; HR released reports chain-wide; reviewers and admins everything.
    """
    stmt = select(MysteryVisit)
    if user.role == Role.MYSTERY:
        return stmt.where(MysteryVisit.shopper_id == user.id)
    if user.role in (Role.ADMIN, Role.REVIEWER):
        return stmt
    released = MysteryVisit.state.in_(sorted(RELEASED_STATES))
    if user.role in CHAIN_WIDE:
        return stmt.where(released)
    return stmt.where(
        released, MysteryVisit.store_id.in_(visible_store_ids(user).scalar_subquery())
    )


def get_visit(session: Session, visit_id: int, *, visible_to: User) -> MysteryVisit:
    """A visit by id if ``visible_to`` may see it.

    Raises
    ------
    NotFound
        No such visit, or one the user may not see (one answer for both).
    """
    visit = session.scalar(visible_visits(visible_to).where(MysteryVisit.id == visit_id))
    if visit is None:
        raise NotFound(_l("No such visit."))
    return visit


def checklist_of(visit: MysteryVisit) -> ChecklistDefinition:
    """The exact checklist version the visit's report answers."""
    return checklist_for_version(visit.checklist_version)


_CHECKLISTS: dict[str, ChecklistDefinition] = {}


def checklist_for_version(version: SurveyVersion) -> ChecklistDefinition:
    # Stored versions never change, so their parsed form can be kept by content hash.
    definition = _CHECKLISTS.get(version.content_hash)
    if definition is None:
        definition = checklist_from_content(version.definition)
        _CHECKLISTS[version.content_hash] = definition
    return definition


def visit_answers(visit: MysteryVisit) -> ChecklistAnswers:
    return answers_from_json(visit.answers or {})


# -- scheduling ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitPlan:
    store_id: int
    shopper_id: int
    checklist_key: str
    window_start: date
    window_end: date
    daypart: str
    fee_cents: int = 0
    instructions: str = ""


def rotation_conflict(
    session: Session, settings: Settings, shopper: User, store: Store, plan: VisitPlan
) -> str | None:
    """Why this shopper may not visit this store in the planned window, or None.

    The same shopper is not sent to the same store within ``mystery_lockout_days`` of
    another of their visits there, and never to a store where someone of the same name
    works (a shopper known to the staff is no mystery).
    """
    lockout = timedelta(days=settings.mystery_lockout_days)
    near = session.scalar(
        select(MysteryVisit.id)
        .where(
            MysteryVisit.shopper_id == shopper.id,
            MysteryVisit.store_id == store.id,
            MysteryVisit.state.not_in([VisitState.DECLINED, VisitState.CANCELLED]),
            MysteryVisit.window_end >= plan.window_start - lockout,
            MysteryVisit.window_start <= plan.window_end + lockout,
        )
        .limit(1)
    )
    if near is not None:
        return str(
            _l(
                "This shopper already has a visit to this store within %(days)s days "
                "(visit %(visit)s).",
                days=settings.mystery_lockout_days,
                visit=near,
            )
        )
    if shopper.name.strip():
        colleague = session.scalar(
            select(Staff.code).where(
                Staff.store_id == store.id,
                func.lower(func.trim(Staff.name)) == shopper.name.strip().lower(),
            )
        )
        if colleague is not None:
            return str(_l("This shopper works at this store (staff %(code)s).", code=colleague))
    return None


def schedule_visit(
    session: Session, settings: Settings, plan: VisitPlan, *, actor: Actor, now: datetime
) -> MysteryVisit:
    """Assign a visit to a shopper, checking the plan and the rotation rules.

    Raises
    ------
    InvalidVisit
        Unknown store, shopper or checklist, a bad window, daypart or fee, or a rotation
        rule broken (the message says which).
    """
    store = session.get(Store, plan.store_id)
    if store is None:
        raise InvalidVisit(_l("Choose a store."), field="store")
    shopper = session.get(User, plan.shopper_id)
    if shopper is None or shopper.role != Role.MYSTERY or not shopper.active:
        raise InvalidVisit(_l("Choose an active mystery shopper."), field="shopper")
    try:
        definition = get_checklist(plan.checklist_key)
    except KeyError:
        raise InvalidVisit(_l("Choose a checklist."), field="checklist") from None
    if plan.window_end < plan.window_start:
        raise InvalidVisit(_l("The window must end on or after its first day."), field="window_end")
    if plan.window_end < local_today(store.timezone, now):
        raise InvalidVisit(_l("The window is already over."), field="window_end")
    if plan.window_end - plan.window_start > timedelta(days=62):
        raise InvalidVisit(_l("A window is at most two months long."), field="window_end")
    if plan.daypart not in DAYPART_HOURS:
        raise InvalidVisit(_l("Choose a time of day."), field="daypart")
    if not 0 <= plan.fee_cents <= 100_000_00:
        raise InvalidVisit(_l("The fee must be between 0 and 100,000."), field="fee")
    conflict = rotation_conflict(session, settings, shopper, store, plan)
    if conflict is not None:
        raise InvalidVisit(conflict, field="shopper")
    version = publish_survey_version(session, definition, now)
    visit = MysteryVisit(
        store_id=store.id,
        shopper_id=shopper.id,
        checklist_version_id=version.id,
        checklist_key=definition.key,
        window_start=plan.window_start,
        window_end=plan.window_end,
        daypart=plan.daypart,
        fee_cents=plan.fee_cents,
        instructions=plan.instructions.strip(),
        state=VisitState.ASSIGNED,
        scheduled_by_id=actor.user_id,
        created_at=now,
        answers={},
        flags=[],
        section_scores={},
    )
    session.add(visit)
    session.flush()
    return _changed(
        session,
        visit,
        actor,
        "scheduled",
        now,
        "",
        None,
        store=store.code,
        shopper_id=shopper.id,
        window=[plan.window_start.isoformat(), plan.window_end.isoformat()],
        daypart=plan.daypart,
    )


# -- the shopper ---------------------------------------------------------------------------


def _own(visit: MysteryVisit, shopper: User) -> None:
    if visit.shopper_id != shopper.id:
        raise NotFound(_l("No such visit."))


def accept_visit(
    session: Session,
    visit: MysteryVisit,
    *,
    shopper: User,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    _own(visit, shopper)
    from_state = _move(visit, VisitState.ACCEPTED, expected_version)
    return _changed(session, visit, Actor.of_user(shopper), "accepted", now, "", from_state)


def decline_visit(
    session: Session,
    visit: MysteryVisit,
    *,
    shopper: User,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    _own(visit, shopper)
    from_state = _move(visit, VisitState.DECLINED, expected_version)
    return _changed(session, visit, Actor.of_user(shopper), "declined", now, reason, from_state)


def cancel_visit(
    session: Session,
    visit: MysteryVisit,
    *,
    actor: Actor,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    _require_reason(reason, "reason")
    from_state = _move(visit, VisitState.CANCELLED, expected_version)
    return _changed(session, visit, actor, "cancelled", now, reason, from_state)


@dataclass(frozen=True, slots=True)
class VisitFacts:
    """What the shopper records about the visit besides the checklist. Times are the
    store's local wall-clock times, as the shopper read them in the store."""

    started_at: datetime | None
    ended_at: datetime | None
    served_by_id: int | None
    served_by_description: str
    transaction_id: str


def _editable(visit: MysteryVisit, shopper: User) -> None:
    _own(visit, shopper)
    if visit.state not in EDITABLE_STATES:
        raise InvalidTransition(
            _l("This report can no longer be changed (it is %(state)s).", state=visit.state)
        )


def save_facts(
    session: Session, visit: MysteryVisit, facts: VisitFacts, *, shopper: User, now: datetime
) -> MysteryVisit:
    """Save the visit facts to the draft; checks that need nothing else happen here.

    Raises
    ------
    InvalidVisit
        Times in the wrong order or in the future, a staff member of another store.
    """
    _editable(visit, shopper)
    store_zone = zone(visit.store.timezone)
    started = facts.started_at.replace(tzinfo=store_zone) if facts.started_at else None
    ended = facts.ended_at.replace(tzinfo=store_zone) if facts.ended_at else None
    if started is not None and started > now:
        raise InvalidVisit(_l("The visit cannot start in the future."), field="started_at")
    if ended is not None and ended > now:
        raise InvalidVisit(_l("The visit cannot end in the future."), field="ended_at")
    if started is not None and ended is not None and ended <= started:
        raise InvalidVisit(_l("The visit must end after it starts."), field="ended_at")
    if facts.served_by_id is not None:
        staff = session.get(Staff, facts.served_by_id)
        if staff is None or staff.store_id != visit.store_id:
            raise InvalidVisit(_l("Choose someone who works at this store."), field="served_by")
    visit.visit_started_at = started
    visit.visit_ended_at = ended
    visit.visit_day = started.date() if started is not None else None
    visit.served_by_id = facts.served_by_id
    visit.served_by_description = facts.served_by_description.strip()[:500]
    visit.transaction_id = facts.transaction_id.strip()[:64] or None
    return _saved(session, visit, shopper, now, "facts")


def save_answers(
    session: Session,
    visit: MysteryVisit,
    answers: ChecklistAnswers,
    *,
    shopper: User,
    now: datetime,
    part: str,
) -> MysteryVisit:
    """Merge a section's answers into the draft (a draft is saved page by page)."""
    _editable(visit, shopper)
    visit.answers = answers_to_json(merge_answers(visit_answers(visit), answers))
    return _saved(session, visit, shopper, now, part)


def save_photo(
    session: Session,
    visit: MysteryVisit,
    photo: CleanPhoto,
    *,
    folder: Path,
    shopper: User,
    now: datetime,
) -> str | None:
    """Keep a cleaned receipt photo outside the web root, replacing an earlier one.

    Returns the earlier photo's file name: the caller removes it once this is committed.
    """
    _editable(visit, shopper)
    replaced = visit.photo_file
    visit.photo_file = store_photo(folder, visit.id, photo)
    visit.photo_hash = photo.average_hash
    _saved(session, visit, shopper, now, "photo")
    return replaced


def _saved(
    session: Session, visit: MysteryVisit, shopper: User, now: datetime, part: str
) -> MysteryVisit:
    # A draft save is not a state change: one quiet event per part, not one per keystroke.
    last = visit.events[-1] if visit.events else None
    if last is not None and last.kind == "draft_saved" and last.details.get("part") == part:
        last.at = now
        try:
            session.flush()
        except StaleDataError:
            raise InvalidTransition(_stale_message()) from None
        return visit
    return _changed(session, visit, Actor.of_user(shopper), "draft_saved", now, "", None, part=part)


@dataclass(frozen=True, slots=True)
class SubmissionCheck:
    """The automatic checks at submission: errors block it, flags go to the reviewer."""

    errors: dict[str, str]
    flags: list[str]
    receipt: Receipt | None
    receipt_check: str | None


def check_submission(
    session: Session, settings: Settings, visit: MysteryVisit, *, now: datetime
) -> SubmissionCheck:
    """Everything reference §2.2 asks of a report before it goes to a reviewer."""
    definition = checklist_of(visit)
    errors: dict[str, str] = {
        key: str(message)
        for key, message in completeness_errors(definition, visit_answers(visit)).items()
    }
    flags: list[str] = []
    started, ended = visit.visit_started_at, visit.visit_ended_at
    if started is None:
        errors["started_at"] = str(_l("Enter when the visit started."))
    if ended is None:
        errors["ended_at"] = str(_l("Enter when the visit ended."))
    if visit.served_by_id is None and not visit.served_by_description:
        errors["served_by"] = str(_l("Choose who served you, or describe them."))
    if not visit.transaction_id:
        errors["transaction_id"] = str(_l("Enter the transaction number printed on the receipt."))
    if not visit.photo_file:
        errors["photo"] = str(_l("Add a photo of the receipt."))
    receipt: Receipt | None = None
    receipt_check: str | None = None
    if started is not None and ended is not None:
        store_zone = zone(visit.store.timezone)
        local_start = started.astimezone(store_zone)
        minutes = (ended - started).total_seconds() / 60
        if not definition.min_minutes <= minutes <= definition.max_minutes:
            errors["ended_at"] = str(
                _l(
                    "A visit for this checklist lasts %(low)s to %(high)s minutes; "
                    "this one lasted %(minutes)s.",
                    low=definition.min_minutes,
                    high=definition.max_minutes,
                    minutes=round(minutes),
                )
            )
        if not visit.window_start <= local_start.date() <= visit.window_end:
            errors["started_at"] = str(
                _l(
                    "The visit must take place between %(start)s and %(end)s.",
                    start=visit.window_start.isoformat(),
                    end=visit.window_end.isoformat(),
                )
            )
        low, high = DAYPART_HOURS[visit.daypart]
        if not low - DAYPART_GRACE_HOURS <= local_start.hour < high + DAYPART_GRACE_HOURS:
            flags.append("outside_daypart")
        if now - ended > SUBMIT_WITHIN:
            flags.append("late")
        if visit.transaction_id:
            receipt = session.scalar(
                select(Receipt).where(
                    Receipt.store_id == visit.store_id,
                    Receipt.transaction_id == visit.transaction_id,
                )
            )
            if receipt is None:
                receipt_check = ReceiptCheck.NOT_FOUND
            elif started <= receipt.issued_at <= ended + RECEIPT_GRACE:
                receipt_check = ReceiptCheck.MATCHED
            else:
                receipt_check = ReceiptCheck.OUTSIDE_WINDOW
            if receipt_check != ReceiptCheck.MATCHED:
                flags.append(f"receipt_{receipt_check}")
    if visit.photo_hash:
        twin = session.scalar(
            select(MysteryVisit.id)
            .where(MysteryVisit.photo_hash == visit.photo_hash, MysteryVisit.id != visit.id)
            .limit(1)
        )
        if twin is not None:
            flags.append("duplicate_photo")
    return SubmissionCheck(errors, flags, receipt, receipt_check)


def submit_report(
    session: Session,
    settings: Settings,
    visit: MysteryVisit,
    *,
    shopper: User,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """File the report: after this the shopper can no longer edit it.

    Raises
    ------
    IncompleteReport
        Something required is missing or implausible; nothing is changed.
    InvalidTransition
    """
    _editable(visit, shopper)
    check = check_submission(session, settings, visit, now=now)
    if check.errors:
        raise IncompleteReport(check.errors)
    resubmission = visit.state == VisitState.RETURNED
    from_state = _move(visit, VisitState.SUBMITTED, expected_version)
    visit.receipt_id = check.receipt.id if check.receipt is not None else None
    visit.receipt_check = check.receipt_check
    _apply_score(visit, settings)
    flags = list(check.flags)
    if (
        visit.score is not None
        and not visit.auto_fail
        and (visit.score >= SUSPICIOUSLY_HIGH or visit.score < SUSPICIOUSLY_LOW)
    ):
        flags.append("extreme_score")
    visit.flags = flags
    visit.submitted_at = now
    return _changed(
        session,
        visit,
        Actor.of_user(shopper),
        "resubmitted" if resubmission else "submitted",
        now,
        "",
        from_state,
        flags=flags,
        score=visit.score,
    )


def _apply_score(visit: MysteryVisit, settings: Settings) -> VisitScore:
    result = score_answers(checklist_of(visit), visit_answers(visit))
    visit.score = result.reported
    visit.score_before_autofail = result.score_before_autofail
    visit.auto_fail = result.auto_fail
    visit_grade = grade(result, GradeBands(*settings.grade_bands))
    visit.grade = str(visit_grade) if visit_grade is not None else None
    visit.section_scores = {section.key: section.score for section in result.sections}
    return result


# -- review --------------------------------------------------------------------------------


def start_review(
    session: Session,
    visit: MysteryVisit,
    *,
    reviewer: User,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    from_state = _move(visit, VisitState.IN_REVIEW, expected_version)
    visit.reviewer_id = reviewer.id
    return _changed(session, visit, Actor.of_user(reviewer), "review_started", now, "", from_state)


def _reviewing(visit: MysteryVisit, reviewer: User) -> None:
    if visit.state == VisitState.IN_REVIEW and visit.reviewer_id not in (None, reviewer.id):
        if reviewer.role != Role.ADMIN:
            raise InvalidTransition(_l("Another reviewer is reviewing this report."))


def return_report(
    session: Session,
    visit: MysteryVisit,
    *,
    reviewer: User,
    comments: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """Send the report back to the shopper with what to fix."""
    _require_reason(comments, "comments")
    _reviewing(visit, reviewer)
    from_state = _move(visit, VisitState.RETURNED, expected_version)
    visit.review_note = comments.strip()
    return _changed(session, visit, Actor.of_user(reviewer), "returned", now, comments, from_state)


def reject_report(
    session: Session,
    visit: MysteryVisit,
    *,
    reviewer: User,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """Refuse an unusable report (wrong store, no proof, fabricated): it never counts."""
    _require_reason(reason, "reason")
    _reviewing(visit, reviewer)
    from_state = _move(visit, VisitState.REJECTED, expected_version)
    visit.review_note = reason.strip()
    return _changed(session, visit, Actor.of_user(reviewer), "rejected", now, reason, from_state)


def release_report(
    session: Session,
    settings: Settings,
    visit: MysteryVisit,
    *,
    reviewer: User,
    now: datetime,
    note: str = "",
    expected_version: int | None = None,
) -> MysteryVisit:
    """Release to the store: it now counts, the dispute window opens, and the staff
    observations the ranking reads are written."""
    _reviewing(visit, reviewer)
    from_state = _move(visit, VisitState.RELEASED, expected_version)
    visit.released_at = now
    visit.dispute_until = now + timedelta(days=settings.dispute_days)
    _write_observations(visit, score_answers(checklist_of(visit), visit_answers(visit)))
    return _changed(session, visit, Actor.of_user(reviewer), "released", now, note, from_state)


def adjust_answers(
    session: Session,
    settings: Settings,
    visit: MysteryVisit,
    changes: Mapping[str, ItemAnswer],
    *,
    reviewer: User,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """Change item answers during review, recording old -> new, the reason and the editor.

    Raises
    ------
    InvalidVisit
        No reason, no change, or an answer the checklist does not allow.
    """
    if visit.state != VisitState.IN_REVIEW:
        raise InvalidTransition(_l("Answers can be corrected only while the report is in review."))
    _reviewing(visit, reviewer)
    _check_version(visit, expected_version)
    diff = _change_answers(visit, changes, reason)
    _apply_score(visit, settings)
    return _changed(
        session,
        visit,
        Actor.of_user(reviewer),
        "answers_corrected",
        now,
        reason,
        None,
        changes=diff,
        score=visit.score,
    )


def _change_answers(
    visit: MysteryVisit, changes: Mapping[str, ItemAnswer], reason: str
) -> dict[str, list[Any]]:
    _require_reason(reason, "reason")
    definition = checklist_of(visit)
    current = visit_answers(visit)
    diff: dict[str, list[Any]] = {}
    for key, answer in changes.items():
        try:
            definition.item(key)
        except KeyError:
            raise InvalidVisit(
                _l("No such checklist item: %(key)s.", key=key), field="item"
            ) from None
        old = current.items.get(key)
        if old is None or old.value != answer.value or old.comment != answer.comment:
            diff[key] = [old.value if old else None, answer.value]
    if not diff:
        raise InvalidVisit(_l("Change at least one answer."), field="item")
    merged = merge_answers(
        current, ChecklistAnswers(items={k: changes[k] for k in diff}, narratives={})
    )
    problems = completeness_errors(definition, merged)
    bad = {k: v for k, v in problems.items() if any(k.endswith(f"-{key}") for key in diff)}
    if bad:
        raise InvalidVisit(next(iter(bad.values())), field="item")
    visit.answers = answers_to_json(merged)
    return diff


# -- the store -----------------------------------------------------------------------------


def dispute_report(
    session: Session,
    settings: Settings,
    visit: MysteryVisit,
    *,
    manager: User,
    item_key: str | None,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """A store manager queries a released report, within the dispute window, with a reason.

    Raises
    ------
    InvalidTransition
        Not released, already disputed, or the window has closed.
    InvalidVisit
        No reason, or an item that is not on the checklist.
    """
    if visit.state == VisitState.RELEASED and visit.dispute_until and now > visit.dispute_until:
        raise InvalidTransition(
            _l(
                "The %(days)s-day window to dispute this report has closed.",
                days=settings.dispute_days,
            )
        )
    _require_reason(reason, "reason")
    if item_key:
        try:
            checklist_of(visit).item(item_key)
        except KeyError:
            raise InvalidVisit(_l("Choose an item of this checklist."), field="item") from None
    from_state = _move(visit, VisitState.DISPUTED, expected_version)
    visit.dispute = VisitDispute(
        raised_by_id=manager.id, raised_at=now, item_key=item_key or None, reason=reason.strip()
    )
    return _changed(
        session, visit, Actor.of_user(manager), "disputed", now, reason, from_state, item=item_key
    )


def decide_dispute(
    session: Session,
    settings: Settings,
    visit: MysteryVisit,
    *,
    reviewer: User,
    outcome: str,
    note: str,
    changes: Mapping[str, ItemAnswer] | None = None,
    now: datetime,
    expected_version: int | None = None,
) -> MysteryVisit:
    """Uphold the report as released, or adjust answers (old -> new kept); either way the
    report becomes final and is never recalculated again.

    Raises
    ------
    InvalidVisit
        No note, an unknown outcome, or an adjustment without a change.
    """
    if outcome not in (DisputeOutcome.UPHELD, DisputeOutcome.ADJUSTED):
        raise InvalidVisit(_l("Choose whether to uphold or adjust the report."), field="outcome")
    _require_reason(note, "note")
    if visit.state != VisitState.DISPUTED:
        raise InvalidTransition(_l("Only a disputed report can be decided."))
    _check_version(visit, expected_version)
    details: dict[str, Any] = {"outcome": outcome}
    if outcome == DisputeOutcome.ADJUSTED:
        before = visit.score
        details["changes"] = _change_answers(visit, changes or {}, note)
        result = _apply_score(visit, settings)
        details["score"] = [before, visit.score]
        _write_observations(visit, result)
    from_state = _move(visit, VisitState.FINAL, None)
    assert visit.dispute is not None
    visit.dispute.decided_by_id = reviewer.id
    visit.dispute.decided_at = now
    visit.dispute.outcome = outcome
    visit.dispute.decision_note = note.strip()
    visit.final_at = now
    return _changed(
        session, visit, Actor.of_user(reviewer), outcome, now, note, from_state, **details
    )


def finalise_due(session: Session, *, now: datetime, actor: Actor) -> list[int]:
    """Released reports whose dispute window has passed become final (run from cron)."""
    due = session.scalars(
        select(MysteryVisit)
        .where(MysteryVisit.state == VisitState.RELEASED, MysteryVisit.dispute_until < now)
        .order_by(MysteryVisit.id)
    ).all()
    for visit in due:
        from_state = _move(visit, VisitState.FINAL, None)
        visit.final_at = now
        _changed(session, visit, actor, "finalised", now, "", from_state)
    return [visit.id for visit in due]


# -- staff observations --------------------------------------------------------------------


def credited_staff(visit: MysteryVisit, definition: ChecklistDefinition) -> dict[int, list[str]]:
    """Which staff member each attributable section is credited to: the cashier on the
    matched POS receipt for checkout sections (no shopper guess), the person who served the
    shopper for the others. Sections nobody can be named for are credited to nobody."""
    cashier = visit.receipt.staff_id if visit.receipt is not None else None
    credited: dict[int, list[str]] = {}
    for section in definition.sections:
        if section.attribution == Attribution.NONE:
            continue
        if section.attribution == Attribution.CASHIER:
            staff_id = cashier if cashier is not None else visit.served_by_id
        else:
            staff_id = visit.served_by_id
        if staff_id is not None:
            credited.setdefault(staff_id, []).append(section.key)
    return credited


def _write_observations(visit: MysteryVisit, result: VisitScore) -> None:
    """Replace the visit's staff observations with those of ``result`` (the old rows go as
    orphans of the relationship when the session flushes)."""
    definition = checklist_of(visit)
    visit.observations.clear()
    if visit.visit_day is None:
        return
    for staff_id, sections in credited_staff(visit, definition).items():
        score = subset_score(result, sections)
        if score is None:
            continue
        visit.observations.append(
            StaffObservation(
                staff_id=staff_id,
                store_id=visit.store_id,
                visit_day=visit.visit_day,
                sections=sections,
                score=score,
            )
        )


# -- moving and recording ------------------------------------------------------------------


def _stale_message() -> Any:
    return _l("This visit changed while you were looking at it. Check the timeline and try again.")


def _check_version(visit: MysteryVisit, expected_version: int | None) -> None:
    if expected_version is not None and visit.version != expected_version:
        raise InvalidTransition(_stale_message())


_TRANSITION_MESSAGES: dict[tuple[str, str], Any] = {
    (VisitState.ASSIGNED, VisitState.SUBMITTED): _l(
        "Accept the assignment before filing a report."
    ),
    (VisitState.SUBMITTED, VisitState.RELEASED): _l(
        "Start the review before releasing the report."
    ),
    (VisitState.SUBMITTED, VisitState.RETURNED): _l(
        "Start the review before returning the report."
    ),
    (VisitState.DISPUTED, VisitState.DISPUTED): _l("This report is already disputed."),
    (VisitState.FINAL, VisitState.DISPUTED): _l(
        "This report is final and can no longer be disputed."
    ),
}


def _move(visit: MysteryVisit, to_state: str, expected_version: int | None) -> str:
    _check_version(visit, expected_version)
    if to_state not in ALLOWED[visit.state]:
        raise InvalidTransition(
            _TRANSITION_MESSAGES.get(
                (visit.state, to_state),
                _l(
                    "A visit that is %(state)s cannot be moved to %(target)s.",
                    state=visit.state,
                    target=to_state,
                ),
            )
        )
    from_state = visit.state
    visit.state = to_state
    return from_state


def _require_reason(text: str, field: str) -> None:
    if len(text.strip()) < MIN_REASON_CHARS:
        raise InvalidVisit(_l("Write at least %(n)s characters.", n=MIN_REASON_CHARS), field=field)


def _changed(
    session: Session,
    visit: MysteryVisit,
    actor: Actor,
    kind: str,
    now: datetime,
    note: str,
    from_state: str | None,
    **details: Any,
) -> MysteryVisit:
    to_state = visit.state if from_state is not None else None
    try:
        visit.events.append(
            VisitEvent(
                at=now,
                actor_user_id=actor.user_id,
                actor=actor.label,
                kind=kind,
                note=note.strip(),
                from_state=from_state,
                to_state=to_state,
                details=details,
            )
        )
        record_audit(
            session,
            actor,
            f"mystery.{kind}",
            "mystery_visit",
            visit.id,
            now,
            from_state=from_state,
            to_state=to_state,
            **details,
        )
        session.flush()
    except StaleDataError:
        raise InvalidTransition(_stale_message()) from None
    return visit
