"""The shopper's report: a draft saved page by page (visit facts, checklist answers, receipt
photo), the automatic checks of reference §2.2 at submission, and filing it for review.

A draft save is not a state change; submitting is, and it scores the report and flags what
a reviewer should look at (late, outside the daypart, receipt not matched, duplicate
photo, extreme score).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.calendar import zone
from portal.config import Settings
from portal.models import MysteryVisit, Receipt, ReceiptCheck, Staff, VisitState
from portal.models.mystery import DAYPART_HOURS
from portal.mystery.checklist_words import say_problem
from portal.mystery.forms import STATE_LABELS
from portal.mystery.photos import CleanPhoto, store_photo
from portal.mystery.visits import (
    EDITABLE_STATES,
    VISITS,
    IncompleteReport,
    InvalidVisit,
    apply_score,
    checklist_of,
    own_visit,
    visit_answers,
)
from portal.workflow import InvalidTransition, flush_versioned, move, record_change
from surveys.checklists import (
    ChecklistAnswers,
    answers_to_json,
    comment_field,
    completeness_errors,
    item_field,
    merge_answers,
    narrative_field,
)

#: A report filed later than this after the visit is flagged late.
SUBMIT_WITHIN = timedelta(hours=24)
#: A POS transaction up to this long after the shopper left still matches the visit.
RECEIPT_GRACE = timedelta(minutes=10)
#: The visit may start this long outside its daypart before it is flagged.
DAYPART_GRACE_HOURS = 1
#: Scores this extreme get a second look before release (reference §2.2 plausibility).
SUSPICIOUSLY_HIGH = 95.0
SUSPICIOUSLY_LOW = 70.0


# -- the draft -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VisitFacts:
    """What the shopper records about the visit besides the checklist. Times are the
    store's local wall-clock times, as the shopper read them in the store."""

    started_at: datetime | None
    ended_at: datetime | None
    served_by_id: int | None
    served_by_description: str
    transaction_id: str


def _editable(visit: MysteryVisit, actor: Actor) -> None:
    own_visit(visit, actor)
    if visit.state not in EDITABLE_STATES:
        raise InvalidTransition(
            _l(
                "This report can no longer be changed (it is %(state)s).",
                state=STATE_LABELS.get(visit.state, visit.state),
            )
        )


def save_facts(
    session: Session, visit: MysteryVisit, facts: VisitFacts, *, actor: Actor, now: datetime
) -> MysteryVisit:
    """Save the visit facts to the draft; checks that need nothing else happen here.

    Raises
    ------
    InvalidVisit
        Times in the wrong order or in the future, a staff member of another store.
    """
    _editable(visit, actor)
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
    return _saved(session, visit, actor, now, "facts")


def save_answers(
    session: Session,
    visit: MysteryVisit,
    answers: ChecklistAnswers,
    *,
    actor: Actor,
    now: datetime,
    part: str,
) -> MysteryVisit:
    """Merge a section's answers into the draft (a draft is saved page by page)."""
    _editable(visit, actor)
    visit.answers = answers_to_json(merge_answers(visit_answers(visit), answers))
    return _saved(session, visit, actor, now, part)


def save_photo(
    session: Session,
    visit: MysteryVisit,
    photo: CleanPhoto,
    *,
    folder: Path,
    actor: Actor,
    now: datetime,
) -> str | None:
    """Keep a cleaned receipt photo outside the web root, replacing an earlier one.

    Returns the earlier photo's file name: the caller removes it once this is committed.
    """
    _editable(visit, actor)
    replaced = visit.photo_file
    visit.photo_file = store_photo(folder, visit.id, photo)
    visit.photo_hash = photo.average_hash
    _saved(session, visit, actor, now, "photo")
    return replaced


def _saved(
    session: Session, visit: MysteryVisit, actor: Actor, now: datetime, part: str
) -> MysteryVisit:
    # A draft save is not a state change: one quiet event per part, not one per keystroke.
    last = visit.events[-1] if visit.events else None
    if last is not None and last.kind == "draft_saved" and last.details.get("part") == part:
        last.at = now
        flush_versioned(session)
        return visit
    record_change(session, VISITS, visit, actor, "draft_saved", now, part=part)
    return visit


@dataclass(frozen=True, slots=True)
class SubmissionCheck:
    """The automatic checks at submission: errors block it, flags go to the reviewer."""

    errors: dict[str, str]
    flags: list[str]
    receipt: Receipt | None
    receipt_check: str | None


def missing_facts(visit: MysteryVisit) -> dict[str, str]:
    """What the report's first page (the visit facts) still lacks, by form field."""
    errors: dict[str, str] = {}
    if visit.visit_started_at is None:
        errors["started_at"] = str(_l("Enter when the visit started."))
    if visit.visit_ended_at is None:
        errors["ended_at"] = str(_l("Enter when the visit ended."))
    if visit.served_by_id is None and not visit.served_by_description:
        errors["served_by"] = str(_l("Choose who served you, or describe them."))
    if not visit.transaction_id:
        errors["transaction_id"] = str(_l("Enter the transaction number printed on the receipt."))
    return errors


def finished_pages(visit: MysteryVisit) -> frozenset[str]:
    """The report's pages with nothing left on them that would stop the filing: "visit"
    (the facts), each checklist section's key, and "proof" (the receipt photo). The step
    bar marks them done; the checks at filing stay those of `check_submission`."""
    definition = checklist_of(visit)
    blocking = completeness_errors(definition, visit_answers(visit)).keys()
    done = {"visit"} if not missing_facts(visit) else set()
    for section in definition.sections:
        fields = {narrative_field(section.key)}
        for item in section.items:
            fields |= {item_field(item.key), comment_field(item.key)}
        if not fields & blocking:
            done.add(section.key)
    if visit.photo_file:
        done.add("proof")
    return frozenset(done)


def check_submission(
    session: Session, settings: Settings, visit: MysteryVisit, *, now: datetime
) -> SubmissionCheck:
    """Everything reference §2.2 asks of a report before it goes to a reviewer."""
    definition = checklist_of(visit)
    errors: dict[str, str] = {
        key: say_problem(message)
        for key, message in completeness_errors(definition, visit_answers(visit)).items()
    }
    flags: list[str] = []
    started, ended = visit.visit_started_at, visit.visit_ended_at
    errors.update(missing_facts(visit))
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
            receipt, receipt_check = _match_receipt(session, visit, started, ended)
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


def _match_receipt(
    session: Session, visit: MysteryVisit, started: datetime, ended: datetime
) -> tuple[Receipt | None, str]:
    """The POS receipt of the visit's transaction number, and whether its time fits."""
    receipt = session.scalar(
        select(Receipt).where(
            Receipt.store_id == visit.store_id,
            Receipt.transaction_id == visit.transaction_id,
        )
    )
    if receipt is None:
        return None, ReceiptCheck.NOT_FOUND
    if started <= receipt.issued_at <= ended + RECEIPT_GRACE:
        return receipt, ReceiptCheck.MATCHED
    return receipt, ReceiptCheck.OUTSIDE_WINDOW


def submit_report(
    session: Session,
    settings: Settings,
    visit: MysteryVisit,
    *,
    actor: Actor,
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
    _editable(visit, actor)
    check = check_submission(session, settings, visit, now=now)
    if check.errors:
        raise IncompleteReport(check.errors)
    resubmission = visit.state == VisitState.RETURNED
    from_state = move(VISITS, visit, VisitState.SUBMITTED, expected_version)
    visit.receipt_id = check.receipt.id if check.receipt is not None else None
    visit.receipt_check = check.receipt_check
    apply_score(visit, settings)
    flags = list(check.flags)
    if (
        visit.score is not None
        and not visit.auto_fail
        and (visit.score >= SUSPICIOUSLY_HIGH or visit.score < SUSPICIOUSLY_LOW)
    ):
        flags.append("extreme_score")
    visit.flags = flags
    visit.submitted_at = now
    record_change(
        session,
        VISITS,
        visit,
        actor,
        "resubmitted" if resubmission else "submitted",
        now,
        from_state=from_state,
        flags=flags,
        score=visit.score,
    )
    return visit
