"""The mystery-visit workflow as operations: scheduling and rotation, the report and its
automatic checks, every allowed and refused transition, release, disputes, scoping."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, PngImagePlugin
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import CLI, Actor
from portal.config import Settings
from portal.errors import NotFound
from portal.models import (
    AuditEntry,
    MysteryVisit,
    ReceiptCheck,
    Role,
    StaffObservation,
    User,
    VisitDispute,
    VisitState,
)
from portal.mystery.photos import InvalidPhoto, clean_photo
from portal.mystery.queries import get_visit, visible_visits
from portal.mystery.report import (
    VisitFacts,
    save_answers,
    save_facts,
    save_photo,
    submit_report,
)
from portal.mystery.review import (
    adjust_answers,
    decide_dispute,
    dispute_report,
    finalise_due,
    reject_report,
    release_report,
    return_report,
    start_review,
)
from portal.mystery.scheduling import (
    VisitPlan,
    accept_visit,
    cancel_visit,
    decline_visit,
    schedule_visit,
)
from portal.mystery.visits import ALLOWED, IncompleteReport, InvalidVisit, checklist_of
from portal.workflow import InvalidReason, InvalidTransition
from surveys.checklists import (
    NA,
    ChecklistAnswers,
    ChecklistDefinition,
    ItemAnswer,
    ItemKind,
    get_checklist,
)
from tests.conftest import aware

NOW = aware(2026, 3, 10, 2)  # 10:00 in Shanghai, 19 hours after the visit
VISIT_START = datetime(2026, 3, 9, 14, 30)  # store-local wall clock
VISIT_END = datetime(2026, 3, 9, 15, 0)


def receipt_png(seed: int = 0, size: tuple[int, int] = (60, 90)) -> bytes:
    image = Image.new("RGB", size, "white")
    for y in range(5, size[1], 8):
        for x in range(5, 5 + (seed * 7 + y) % 45):
            image.putpixel((x, y), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def complete_answers(
    definition: ChecklistDefinition, overrides: dict[str, ItemAnswer] | None = None
) -> ChecklistAnswers:
    """Every item answered the good way, narratives long enough; ``overrides`` by item."""
    items: dict[str, ItemAnswer] = {}
    for item in definition.items:
        if item.kind == ItemKind.CHECK:
            items[item.key] = ItemAnswer("yes")
        elif item.kind == ItemKind.TIME:
            items[item.key] = ItemAnswer(max(0, (item.standard_seconds or 60) // 2))
        elif item.kind == ItemKind.RATING:
            items[item.key] = ItemAnswer(4)
        else:
            items[item.key] = ItemAnswer("Clean and tidy at the time of the visit.")
    items.update(overrides or {})
    narratives = {
        s.key: "店员在这个环节的表现符合标准，过程记录如下。" * 4 for s in definition.sections
    }
    return ChecklistAnswers(items=items, narratives=narratives)


@dataclass
class World:
    session: Session
    settings: Settings
    store: Any
    other_store: Any
    greeter: Any
    cashier: Any
    shopper: User
    other_shopper: User
    reviewer: User
    manager: User
    other_manager: User
    hr: User
    photos: Path
    make_receipt: Any
    make_user: Any

    def another_shopper(self) -> User:
        """A second visit to the same store needs another shopper (rotation)."""
        self.shopper = self.make_user(Role.MYSTERY)
        return self.shopper

    def plan(self, **changes: Any) -> VisitPlan:
        fields: dict[str, Any] = dict(
            store_id=self.store.id,
            shopper_id=self.shopper.id,
            checklist_key="retail-standard",
            window_start=date(2026, 3, 1),
            window_end=date(2026, 3, 31),
            daypart="afternoon",
            fee_cents=8000,
        )
        fields.update(changes)
        return VisitPlan(**fields)

    def schedule(self, now: datetime = NOW - timedelta(days=9), **changes: Any) -> MysteryVisit:
        return schedule_visit(
            self.session,
            self.settings,
            self.plan(**changes),
            actor=Actor.of_user(self.reviewer),
            now=now,
        )

    def filled(
        self,
        *,
        answers: ChecklistAnswers | None = None,
        photo_seed: int = 0,
        transaction_id: str = "TX-MYSTERY",
        start: datetime = VISIT_START,
        end: datetime = VISIT_END,
    ) -> MysteryVisit:
        visit = self.schedule()
        accept_visit(
            self.session, visit, actor=Actor.of_user(self.shopper), now=NOW - timedelta(days=8)
        )
        facts = VisitFacts(start, end, self.greeter.id, "", transaction_id)
        save_facts(self.session, visit, facts, actor=Actor.of_user(self.shopper), now=NOW)
        definition = checklist_of(visit)
        save_answers(
            self.session,
            visit,
            answers or complete_answers(definition),
            actor=Actor.of_user(self.shopper),
            now=NOW,
            part="all",
        )
        photo = clean_photo(receipt_png(photo_seed), max_bytes=self.settings.photo_max_bytes)
        save_photo(
            self.session,
            visit,
            photo,
            folder=self.photos,
            actor=Actor.of_user(self.shopper),
            now=NOW,
        )
        return visit

    def submitted(self, **kwargs: Any) -> MysteryVisit:
        visit = self.filled(**kwargs)
        submit_report(
            self.session, self.settings, visit, actor=Actor.of_user(self.shopper), now=NOW
        )
        return visit

    def released(self, **kwargs: Any) -> MysteryVisit:
        visit = self.submitted(**kwargs)
        start_review(self.session, visit, actor=Actor.of_user(self.reviewer), now=NOW)
        release_report(
            self.session, self.settings, visit, actor=Actor.of_user(self.reviewer), now=NOW
        )
        return visit


@pytest.fixture
def people(db_session):
    """Users made directly: these tests never sign in, so no password hashing (~0.15 s each)."""
    counter = iter(range(1, 10_000))

    def make(role: Role, stores: list[Any] | None = None, name: str = "") -> User:
        user = User(
            email=f"{role}{next(counter)}@example.com",
            name=name,
            role=str(role),
            password_hash="!",
            stores=stores or [],
        )
        db_session.add(user)
        db_session.flush()
        return user

    return make


@pytest.fixture
def world(db_session, settings, tmp_path, make_store, make_staff, people, make_receipt):
    make_user = people
    store = make_store(timezone="Asia/Shanghai")
    other = make_store()
    greeter = make_staff(store, name="李娜", position="导购")
    cashier = make_staff(store, name="张伟", position="收银员")
    return World(
        session=db_session,
        settings=settings,
        store=store,
        other_store=other,
        greeter=greeter,
        cashier=cashier,
        shopper=make_user(Role.MYSTERY, name="陈晨"),
        other_shopper=make_user(Role.MYSTERY, name="赵敏"),
        reviewer=make_user(Role.REVIEWER),
        manager=make_user(Role.MANAGER, stores=[store]),
        other_manager=make_user(Role.MANAGER, stores=[other]),
        hr=make_user(Role.HR),
        photos=tmp_path / "photos",
        make_receipt=make_receipt,
        make_user=make_user,
    )


# -- scheduling and rotation ---------------------------------------------------------------


def test_scheduling_records_the_exact_checklist_version_and_an_audit_entry(world):
    visit = world.schedule()
    assert visit.state == VisitState.ASSIGNED
    assert visit.checklist_version.content_hash == get_checklist("retail-standard").content_hash
    assert [e.kind for e in visit.events] == ["scheduled"]
    audit = world.session.scalars(
        select(AuditEntry.action).where(
            AuditEntry.subject_type == "mystery_visit", AuditEntry.subject_id == str(visit.id)
        )
    ).all()
    assert audit == ["mystery.scheduled"]


def test_the_same_shopper_is_not_sent_to_the_same_store_within_the_lockout(world):
    world.schedule()
    with pytest.raises(InvalidVisit, match="within 60 days") as refused:
        world.schedule(window_start=date(2026, 5, 1), window_end=date(2026, 5, 10))
    assert refused.value.field == "shopper"
    # 61 days after the first window ends is allowed; so is another shopper, or store.
    world.schedule(window_start=date(2026, 5, 31), window_end=date(2026, 6, 5))
    world.schedule(shopper_id=world.other_shopper.id)
    world.schedule(store_id=world.other_store.id)


def test_a_declined_or_cancelled_visit_does_not_block_the_store(world):
    first = world.schedule()
    decline_visit(world.session, first, actor=Actor.of_user(world.shopper), reason="", now=NOW)
    second = world.schedule()
    cancel_visit(world.session, second, actor=CLI, reason="store closed for works", now=NOW)
    assert world.schedule().state == VisitState.ASSIGNED


def test_a_shopper_who_works_at_the_store_is_refused(world, people):
    colleague = people(Role.MYSTERY, name=" 李娜 ")
    with pytest.raises(InvalidVisit, match="works at this store"):
        world.schedule(shopper_id=colleague.id)
    assert world.schedule(shopper_id=colleague.id, store_id=world.other_store.id)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"window_start": date(2026, 3, 5), "window_end": date(2026, 3, 4)}, "window_end"),
        ({"window_start": date(2026, 1, 1), "window_end": date(2026, 1, 31)}, "window_end"),
        ({"daypart": "midnight"}, "daypart"),
        ({"fee_cents": -1}, "fee"),
        ({"checklist_key": "nope"}, "checklist"),
    ],
)
def test_a_bad_plan_is_refused_with_the_field(world, changes, field):
    with pytest.raises(InvalidVisit) as refused:
        world.schedule(now=NOW, **changes)
    assert refused.value.field == field


def test_only_an_active_mystery_shopper_can_be_assigned(world):
    with pytest.raises(InvalidVisit):
        world.schedule(shopper_id=world.reviewer.id)


# -- the report and the checks at submission -----------------------------------------------


def test_an_incomplete_report_is_refused_and_nothing_changes(world):
    visit = world.schedule()
    accept_visit(world.session, visit, actor=Actor.of_user(world.shopper), now=NOW)
    with pytest.raises(IncompleteReport) as refused:
        submit_report(
            world.session, world.settings, visit, actor=Actor.of_user(world.shopper), now=NOW
        )
    assert {"started_at", "ended_at", "served_by", "transaction_id", "photo"} <= set(
        refused.value.errors
    )
    assert any(key.startswith("item-") for key in refused.value.errors)
    assert visit.state == VisitState.ACCEPTED


def test_a_no_without_a_comment_blocks_submission(world):
    definition = get_checklist("retail-standard")
    answers = complete_answers(definition, {"A2": ItemAnswer("no")})
    visit = world.filled(answers=answers)
    with pytest.raises(IncompleteReport) as refused:
        submit_report(
            world.session, world.settings, visit, actor=Actor.of_user(world.shopper), now=NOW
        )
    assert "comment-A2" in refused.value.errors


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (VISIT_START, VISIT_START + timedelta(minutes=2), "ended_at"),  # too short
        (VISIT_START, VISIT_START + timedelta(hours=3), "ended_at"),  # too long
        (datetime(2026, 2, 27, 14, 0), datetime(2026, 2, 27, 14, 30), "started_at"),  # window
    ],
)
def test_implausible_times_block_submission(world, start, end, field):
    visit = world.filled(start=start, end=end)
    with pytest.raises(IncompleteReport) as refused:
        submit_report(
            world.session, world.settings, visit, actor=Actor.of_user(world.shopper), now=NOW
        )
    assert field in refused.value.errors


def test_times_in_the_wrong_order_or_the_future_are_refused_at_once(world):
    visit = world.schedule()
    accept_visit(world.session, visit, actor=Actor.of_user(world.shopper), now=NOW)
    backwards = VisitFacts(VISIT_END, VISIT_START, None, "", "")
    with pytest.raises(InvalidVisit, match="end after"):
        save_facts(world.session, visit, backwards, actor=Actor.of_user(world.shopper), now=NOW)
    future = VisitFacts(datetime(2026, 3, 11, 9, 0), None, None, "", "")
    with pytest.raises(InvalidVisit, match="future"):
        save_facts(world.session, visit, future, actor=Actor.of_user(world.shopper), now=NOW)
    someone_else = VisitFacts(None, None, -1, "", "")
    with pytest.raises(InvalidVisit):
        save_facts(world.session, visit, someone_else, actor=Actor.of_user(world.shopper), now=NOW)


def test_a_matching_pos_receipt_is_linked_and_credits_the_cashier(world):
    # 14:50 Shanghai = 06:50 UTC, inside the visit.
    world.make_receipt(
        world.store,
        world.cashier,
        transaction_id="TX-77",
        issued_at=aware(2026, 3, 9, 6) + timedelta(minutes=50),
    )
    visit = world.released(transaction_id="TX-77")
    assert visit.receipt_check == ReceiptCheck.MATCHED
    # Every answer "yes" scores 100: only the extreme score asks for a second look.
    assert visit.flags == ["extreme_score"]
    credited = {o.staff_id: sorted(o.sections) for o in visit.observations}
    assert credited[world.cashier.id] == ["checkout"]
    assert "checkout" not in credited[world.greeter.id]
    assert {"greeting", "needs", "product", "farewell"} <= set(credited[world.greeter.id])


def test_a_receipt_at_another_time_or_unknown_is_flagged_not_refused(world):
    world.make_receipt(
        world.store, world.cashier, transaction_id="TX-EARLY", issued_at=aware(2026, 3, 8, 6)
    )
    early = world.submitted(transaction_id="TX-EARLY")
    assert early.receipt_check == ReceiptCheck.OUTSIDE_WINDOW
    assert "receipt_outside_window" in early.flags
    world.another_shopper()
    unknown = world.submitted(transaction_id="TX-NOWHERE", photo_seed=3)
    assert unknown.receipt_check == ReceiptCheck.NOT_FOUND
    assert "receipt_not_found" in unknown.flags
    # Without a POS receipt, the checkout is credited to the person who served the shopper.


def test_late_filing_and_a_reused_photo_are_flagged(world):
    first = world.submitted(photo_seed=5)
    assert "duplicate_photo" not in first.flags
    world.another_shopper()
    visit = world.filled(photo_seed=5)
    submit_report(
        world.session,
        world.settings,
        visit,
        actor=Actor.of_user(world.shopper),
        now=NOW + timedelta(days=2),
    )
    assert {"late", "duplicate_photo"} <= set(visit.flags)


def test_a_visit_critical_fail_reports_zero_and_keeps_the_score_before_it(world):
    definition = get_checklist("retail-standard")
    comment = "One yoghurt on the shelf was two days past its date."
    visit = world.submitted(answers=complete_answers(definition, {"A4": ItemAnswer("no", comment)}))
    assert visit.auto_fail and visit.score == 0
    assert visit.score_before_autofail is not None and visit.score_before_autofail > 0
    assert visit.grade == "fail"


# -- transitions ---------------------------------------------------------------------------


def _act(world: World, visit: MysteryVisit, action: str) -> None:
    s, st, now = world.session, world.settings, NOW
    {
        "accept": lambda: accept_visit(s, visit, actor=Actor.of_user(world.shopper), now=now),
        "decline": lambda: decline_visit(
            s, visit, actor=Actor.of_user(world.shopper), reason="", now=now
        ),
        "cancel": lambda: cancel_visit(s, visit, actor=CLI, reason="no longer needed", now=now),
        "submit": lambda: submit_report(s, st, visit, actor=Actor.of_user(world.shopper), now=now),
        "review": lambda: start_review(s, visit, actor=Actor.of_user(world.reviewer), now=now),
        "return": lambda: return_report(
            s,
            visit,
            actor=Actor.of_user(world.reviewer),
            comments="Add the queue times please.",
            now=now,
        ),
        "reject": lambda: reject_report(
            s,
            visit,
            actor=Actor.of_user(world.reviewer),
            reason="Receipt from another store.",
            now=now,
        ),
        "release": lambda: release_report(
            s, st, visit, actor=Actor.of_user(world.reviewer), now=now
        ),
        "dispute": lambda: dispute_report(
            s,
            st,
            visit,
            actor=Actor.of_user(world.manager),
            item_key="B2",
            reason="She did greet, CCTV 14:31.",
            now=now,
        ),
        "decide": lambda: decide_dispute(
            s,
            st,
            visit,
            actor=Actor.of_user(world.reviewer),
            outcome="upheld",
            note="Shopper's notes are clear.",
            now=now,
        ),
    }[action]()


#: action -> (the state it needs, the state it leads to)
MOVES = {
    "accept": ({VisitState.ASSIGNED}, VisitState.ACCEPTED),
    "decline": ({VisitState.ASSIGNED}, VisitState.DECLINED),
    "cancel": ({VisitState.ASSIGNED, VisitState.ACCEPTED}, VisitState.CANCELLED),
    "submit": ({VisitState.ACCEPTED, VisitState.RETURNED}, VisitState.SUBMITTED),
    "review": ({VisitState.SUBMITTED}, VisitState.IN_REVIEW),
    "return": ({VisitState.IN_REVIEW}, VisitState.RETURNED),
    "reject": ({VisitState.IN_REVIEW}, VisitState.REJECTED),
    "release": ({VisitState.IN_REVIEW}, VisitState.RELEASED),
    "dispute": ({VisitState.RELEASED}, VisitState.DISPUTED),
    "decide": ({VisitState.DISPUTED}, VisitState.FINAL),
}


def test_the_moves_match_the_state_machine():
    for action, (sources, target) in MOVES.items():
        for source in sources:
            assert target in ALLOWED[source], (action, source)
    reachable = {(s, target) for sources, target in MOVES.values() for s in sources}
    reachable.add((VisitState.RELEASED, VisitState.FINAL))  # finalise_due
    assert reachable == {(s, t) for s, targets in ALLOWED.items() for t in targets}


@pytest.mark.parametrize("state", list(VisitState))
@pytest.mark.parametrize("action", list(MOVES))
def test_every_action_from_every_state(world, state, action):
    visit = world.filled()
    visit.state = state
    if state in (VisitState.RELEASED, VisitState.DISPUTED, VisitState.FINAL):
        visit.dispute_until = NOW + timedelta(days=1)
    if state in (VisitState.DISPUTED, VisitState.FINAL) and action == "decide":
        visit.dispute = VisitDispute(raised_by_id=world.manager.id, raised_at=NOW, reason="x" * 12)
    world.session.flush()
    sources, target = MOVES[action]
    if state in sources:
        _act(world, visit, action)
        assert visit.state == target
        assert visit.events[-1].from_state == state and visit.events[-1].to_state == target
    else:
        with pytest.raises(InvalidTransition):
            _act(world, visit, action)
        assert visit.state == state


def test_a_form_from_a_stale_page_is_refused(world):
    visit = world.schedule()
    seen = visit.version
    accept_visit(world.session, visit, actor=Actor.of_user(world.shopper), now=NOW)
    with pytest.raises(InvalidTransition, match="changed"):
        cancel_visit(
            world.session,
            visit,
            actor=CLI,
            reason="no longer needed",
            now=NOW,
            expected_version=seen,
        )


def test_a_shopper_cannot_act_on_someone_elses_visit(world):
    visit = world.schedule()
    with pytest.raises(NotFound):
        accept_visit(world.session, visit, actor=Actor.of_user(world.other_shopper), now=NOW)


def test_the_report_cannot_be_edited_after_submission(world):
    visit = world.submitted()
    with pytest.raises(InvalidTransition, match="no longer be changed"):
        save_answers(
            world.session,
            visit,
            ChecklistAnswers(items={}, narratives={}),
            actor=Actor.of_user(world.shopper),
            now=NOW,
            part="x",
        )


def test_returned_and_resubmitted(world):
    visit = world.submitted()
    start_review(world.session, visit, actor=Actor.of_user(world.reviewer), now=NOW)
    return_report(
        world.session,
        visit,
        actor=Actor.of_user(world.reviewer),
        comments="Describe the cashier better.",
        now=NOW,
    )
    assert visit.review_note.startswith("Describe")
    save_facts(
        world.session,
        visit,
        VisitFacts(VISIT_START, VISIT_END, world.greeter.id, "short hair, red badge", "TX-MYSTERY"),
        actor=Actor.of_user(world.shopper),
        now=NOW,
    )
    submit_report(world.session, world.settings, visit, actor=Actor.of_user(world.shopper), now=NOW)
    assert [e.kind for e in visit.events if e.to_state] == [
        "accepted",
        "submitted",
        "review_started",
        "returned",
        "resubmitted",
    ]


def test_reasons_are_required(world):
    visit = world.submitted()
    start_review(world.session, visit, actor=Actor.of_user(world.reviewer), now=NOW)
    with pytest.raises(InvalidReason):
        reject_report(
            world.session, visit, actor=Actor.of_user(world.reviewer), reason="bad", now=NOW
        )
    assert visit.state == VisitState.IN_REVIEW


# -- release and disputes -----------------------------------------------------------------


def test_release_opens_the_dispute_window_and_finalise_closes_it(world):
    visit = world.released()
    assert visit.dispute_until == NOW + timedelta(days=world.settings.dispute_days)
    assert finalise_due(world.session, now=NOW + timedelta(days=1), actor=CLI) == []
    late = NOW + timedelta(days=world.settings.dispute_days, seconds=1)
    with pytest.raises(InvalidTransition, match="window"):
        dispute_report(
            world.session,
            world.settings,
            visit,
            actor=Actor.of_user(world.manager),
            item_key=None,
            reason="The shopper came on the wrong day.",
            now=late,
        )
    assert finalise_due(world.session, now=late, actor=CLI) == [visit.id]
    assert visit.state == VisitState.FINAL and visit.final_at == late


def test_an_upheld_dispute_keeps_the_score(world):
    visit = world.released()
    score = visit.score
    _act(world, visit, "dispute")
    _act(world, visit, "decide")
    assert visit.state == VisitState.FINAL and visit.score == score
    assert visit.dispute.outcome == "upheld" and visit.dispute.decided_by_id == world.reviewer.id


def test_an_adjusted_dispute_rescores_and_keeps_the_old_answer_in_the_timeline(world):
    definition = get_checklist("retail-standard")
    comment = "No smile and no eye contact when greeting."
    visit = world.released(answers=complete_answers(definition, {"B2": ItemAnswer("no", comment)}))
    before = visit.score
    observed_before = {o.staff_id: o.score for o in visit.observations}
    _act(world, visit, "dispute")
    decide_dispute(
        world.session,
        world.settings,
        visit,
        actor=Actor.of_user(world.reviewer),
        outcome="adjusted",
        note="CCTV shows the greeting with a smile.",
        changes={"B2": ItemAnswer("yes")},
        now=NOW,
    )
    assert visit.state == VisitState.FINAL and visit.score > before
    event = visit.events[-1]
    assert event.kind == "adjusted" and event.details["changes"] == {"B2": ["no", "yes"]}
    observed_after = {
        o.staff_id: o.score
        for o in world.session.scalars(
            select(StaffObservation).where(StaffObservation.visit_id == visit.id)
        )
    }
    assert observed_after[world.greeter.id] > observed_before[world.greeter.id]


def test_an_adjustment_must_change_something_allowed(world):
    visit = world.released()
    _act(world, visit, "dispute")
    with pytest.raises(InvalidVisit):
        decide_dispute(
            world.session,
            world.settings,
            visit,
            actor=Actor.of_user(world.reviewer),
            outcome="adjusted",
            note="Nothing really changes here.",
            changes={"B2": ItemAnswer("yes")},
            now=NOW,
        )
    with pytest.raises(InvalidVisit):
        decide_dispute(
            world.session,
            world.settings,
            visit,
            actor=Actor.of_user(world.reviewer),
            outcome="adjusted",
            note="N/A is not allowed on B2 at all.",
            changes={"B2": ItemAnswer(NA, "x" * 30)},
            now=NOW,
        )
    assert visit.state == VisitState.DISPUTED


def test_reviewer_corrections_are_recorded_old_to_new(world):
    visit = world.submitted()
    start_review(world.session, visit, actor=Actor.of_user(world.reviewer), now=NOW)
    adjust_answers(
        world.session,
        world.settings,
        visit,
        {"D3": ItemAnswer("no", "No add-on was offered at all.")},
        actor=Actor.of_user(world.reviewer),
        reason="Narrative says no add-on was offered.",
        now=NOW,
    )
    assert visit.events[-1].details["changes"] == {"D3": ["yes", "no"]}
    assert visit.score < 100


# -- scoping -------------------------------------------------------------------------------


def _visible(world: World, user: User) -> set[int]:
    return set(world.session.scalars(visible_visits(user).with_only_columns(MysteryVisit.id)))


def test_who_sees_which_visits(world):
    released = world.released(photo_seed=2)
    first_shopper = world.shopper
    assigned = world.schedule(shopper_id=world.another_shopper().id)
    elsewhere = world.schedule(store_id=world.other_store.id, shopper_id=world.other_shopper.id)
    assert _visible(world, first_shopper) == {released.id}
    assert _visible(world, world.shopper) == {assigned.id}
    assert _visible(world, world.other_shopper) == {elsewhere.id}
    assert _visible(world, world.manager) == {released.id}
    assert _visible(world, world.other_manager) == set()
    assert _visible(world, world.hr) == {released.id}
    assert _visible(world, world.reviewer) == {assigned.id, released.id, elsewhere.id}
    with pytest.raises(NotFound):
        get_visit(world.session, assigned.id, visible_to=world.manager)


# -- photos --------------------------------------------------------------------------------


def test_a_photo_that_is_not_an_image_is_refused():
    with pytest.raises(InvalidPhoto, match="JPEG or PNG"):
        clean_photo(b"%PDF-1.4 not a picture", max_bytes=10_000)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    with pytest.raises(InvalidPhoto, match="JPEG or PNG"):
        clean_photo(gif.getvalue(), max_bytes=10_000)
    with pytest.raises(InvalidPhoto):
        clean_photo(b"", max_bytes=10_000)


def test_an_oversized_photo_is_refused():
    data = receipt_png()
    with pytest.raises(InvalidPhoto, match="too large"):
        clean_photo(data, max_bytes=len(data) - 1)
    assert clean_photo(data, max_bytes=len(data)).data


def test_gps_and_other_metadata_are_stripped_from_a_jpeg():
    image = Image.new("RGB", (40, 30), "white")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x0132] = "2026:03:09 14:31:00"  # date and time
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (31.0, 14.0, 0.0)
    gps[3], gps[4] = "E", (121.0, 28.0, 0.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    original = out.getvalue()
    with Image.open(io.BytesIO(original)) as check:
        assert check.getexif().get_ifd(0x8825)  # the test photo really carries GPS
    cleaned = clean_photo(original, max_bytes=100_000)
    assert cleaned.suffix == ".jpg"
    with Image.open(io.BytesIO(cleaned.data)) as result:
        assert result.format == "JPEG"
        assert not result.getexif()
        assert "exif" not in result.info
    assert b"PhoneMaker" not in cleaned.data and b"Exif" not in cleaned.data


def _jpeg_markers(data: bytes) -> list[int]:
    """The segment markers of a JPEG up to the image data (start of scan)."""
    assert data[:2] == b"\xff\xd8"
    markers, at = [], 2
    while at < len(data):
        assert data[at] == 0xFF
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return markers
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return markers


def test_jpeg_comment_segments_and_every_other_metadata_are_stripped():
    xmp = b"<x:xmpmeta><rdf:Description GPSLatitude='31,14N'/></x:xmpmeta>"
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(
        out,
        format="JPEG",
        comment=b"shopper home address",
        icc_profile=b"fake-icc-profile-bytes",
        xmp=xmp,
    )
    original = out.getvalue()
    assert 0xFE in _jpeg_markers(original)  # the test photo really carries a COM segment
    cleaned = clean_photo(original, max_bytes=100_000).data
    markers = _jpeg_markers(cleaned)
    assert 0xFE not in markers  # no COM segment
    # Only JFIF (APP0) of the application segments: no EXIF, ICC, XMP, Adobe...
    assert [m for m in markers if 0xE1 <= m <= 0xEF] == []
    assert b"home address" not in cleaned and b"GPSLatitude" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as result:
        assert "comment" not in result.info
        assert "icc_profile" not in result.info and "xmp" not in result.info


def test_png_text_chunks_are_stripped():

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "shopper home address")
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, format="PNG", pnginfo=info)
    cleaned = clean_photo(out.getvalue(), max_bytes=100_000)
    assert cleaned.suffix == ".png" and b"home address" not in cleaned.data


def test_the_same_picture_has_the_same_average_hash():
    a = clean_photo(receipt_png(1), max_bytes=100_000)
    b = clean_photo(receipt_png(1), max_bytes=100_000)
    c = clean_photo(receipt_png(9), max_bytes=100_000)
    assert a.average_hash == b.average_hash != c.average_hash
