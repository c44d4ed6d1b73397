"""Reads for trainings: the list, the topics used so far, and each training's effect.

An effect compares the trained person's answers in the ``weeks`` before the training day
with those in the ``weeks`` after it (the day itself in neither), against the answers of
the other staff of their store over the same days (`analysis.training`). Answers are read
as the staff ranking reads them, so that a training is judged on what ranks the person:
the answer channels of HR's ranking policy (`portal.hr.policy.policy_channels`), without
the answers held out as suspected ballot stuffing (`portal.ballot.holds`), by the store's
local day, attributed through ``Response.staff_id``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from analysis.results import Estimate
from analysis.training import (
    DidResult,
    PooledEffect,
    difference_in_differences,
    nps_points,
    pooled_effect,
    satisfied_points,
)
from portal.ballot.holds import counts_in_rankings
from portal.channels import channel_condition
from portal.hr.policy import current_policy, policy_channels
from portal.models import Response, Staff, Store, Training, TrainingState
from portal.training.words import verdict

#: Weeks before and after the training day compared, unless the caller says otherwise.
WEEKS = 6


@dataclass(frozen=True, slots=True)
class TrainingRow:
    """One training with its person and store, as the pages show it."""

    id: int
    version: int
    state: str
    staff_id: int
    staff_code: str
    staff_name: str
    store_id: int
    store_code: str
    store_name: str
    topic: str
    touchpoint: str
    trained_on: date
    trainer: str
    note: str


@dataclass(frozen=True, slots=True)
class TrainingEffect:
    """A training and, once it is done, its effect on the person's NPS (points) and
    satisfied share (percentage points); ``None`` before it is done."""

    training: TrainingRow
    nps: DidResult | None
    csat: DidResult | None
    weeks: int


@dataclass(frozen=True, slots=True)
class TopicEffect:
    """One topic's pooled effect over its done trainings (``trainees`` distinct people)."""

    topic: str
    nps: PooledEffect
    csat: PooledEffect
    trainings: int
    trainees: int


@dataclass(frozen=True, slots=True)
class TrainingEffectRow:
    """One training in the monthly review: who, what, when, its effects (``None``: too
    early to tell) with their four n, and the words key of the NPS effect
    (`portal.training.words.VERDICT_LABELS`: better, worse, unclear, too_early)."""

    training_id: int
    staff_id: int
    staff_name: str
    store_id: int
    topic: str
    touchpoint: str
    trained_on: date
    nps: Estimate | None
    csat: Estimate | None
    person_before: int
    person_after: int
    peers_before: int
    peers_after: int
    words: str


def _rows(store_ids: Collection[int] | None = None) -> Select[tuple[Training, Staff, Store]]:
    stmt = (
        select(Training, Staff, Store)
        .join(Staff, Staff.id == Training.staff_id)
        .join(Store, Store.id == Staff.store_id)
    )
    if store_ids is not None:
        stmt = stmt.where(Staff.store_id.in_(list(store_ids)))
    return stmt


def _row(training: Training, staff: Staff, store: Store) -> TrainingRow:
    return TrainingRow(
        id=training.id,
        version=training.version,
        state=training.state,
        staff_id=staff.id,
        staff_code=staff.code,
        staff_name=staff.name,
        store_id=store.id,
        store_code=store.code,
        store_name=store.name,
        topic=training.topic,
        touchpoint=training.touchpoint,
        trained_on=training.trained_on,
        trainer=training.trainer,
        note=training.note,
    )


def list_trainings(
    session: Session, store_ids: Collection[int], states: Sequence[str] = ()
) -> list[TrainingRow]:
    """Trainings of staff in ``store_ids`` (in ``states``, or all), newest day first."""
    stmt = _rows(store_ids).order_by(Training.trained_on.desc(), Training.id.desc())
    if states:
        stmt = stmt.where(Training.state.in_(list(states)))
    return [_row(*r) for r in session.execute(stmt).tuples()]


def get_training(
    session: Session, training_id: int, store_ids: Collection[int]
) -> TrainingRow | None:
    row = session.execute(_rows(store_ids).where(Training.id == training_id)).tuples().first()
    return None if row is None else _row(*row)


def topic_names(session: Session) -> list[str]:
    """Every topic used so far (any state), alphabetically: the topic field's list."""
    return list(session.scalars(select(Training.topic).distinct().order_by(Training.topic)))


@dataclass(frozen=True, slots=True)
class Scores:
    """Per-answer NPS points and satisfied points of the four groups of one comparison:
    the person before/after, the store's other staff before/after."""

    nps: tuple[list[float], list[float], list[float], list[float]]
    csat: tuple[list[float], list[float], list[float], list[float]]


def answer_scores(
    session: Session,
    staff_id: int,
    store_id: int,
    day: date,
    *,
    weeks: int = WEEKS,
    channels: Sequence[str],
) -> Scores:
    """The answers of ``staff_id`` and of the other staff of ``store_id`` in the ``weeks``
    before ``day`` and the ``weeks`` after it, as the ranking counts them."""
    start, end = day - timedelta(weeks=weeks), day + timedelta(weeks=weeks, days=1)
    rows = session.execute(
        select(Response.staff_id, Response.local_day, Response.nps, Response.csat).where(
            Response.store_id == store_id,
            Response.staff_id.is_not(None),
            Response.local_day >= start,
            Response.local_day < end,
            Response.local_day != day,
            channel_condition(Response.channel, channels),
            counts_in_rankings(Response.id),
        )
    )
    nps: tuple[list[float], ...] = ([], [], [], [])
    csat: tuple[list[float], ...] = ([], [], [], [])
    for who, answered, score, satisfied in rows:
        group = (0 if who == staff_id else 2) + (1 if answered > day else 0)
        nps[group].append(nps_points(score))
        csat[group].append(satisfied_points(satisfied))
    return Scores((nps[0], nps[1], nps[2], nps[3]), (csat[0], csat[1], csat[2], csat[3]))


def _effect(
    session: Session, row: TrainingRow, weeks: int, channels: Sequence[str]
) -> TrainingEffect:
    if row.state != TrainingState.DONE:
        return TrainingEffect(row, None, None, weeks)
    scores = answer_scores(
        session, row.staff_id, row.store_id, row.trained_on, weeks=weeks, channels=channels
    )
    return TrainingEffect(
        row, difference_in_differences(*scores.nps), difference_in_differences(*scores.csat), weeks
    )


def ranking_channels(session: Session) -> tuple[str, ...]:
    """The answer channels HR's ranking policy counts."""
    return tuple(str(c) for c in policy_channels(current_policy(session)))


def staff_training_effects(
    session: Session, staff_id: int, weeks: int = WEEKS
) -> list[TrainingEffect]:
    """Every training of ``staff_id`` (newest first), with its effect once done."""
    channels = ranking_channels(session)
    stmt = (
        _rows()
        .where(Training.staff_id == staff_id)
        .order_by(Training.trained_on.desc(), Training.id.desc())
    )
    return [_effect(session, _row(*r), weeks, channels) for r in session.execute(stmt).tuples()]


def topic_effects(
    session: Session, store_ids: Collection[int], weeks: int = WEEKS
) -> list[TopicEffect]:
    """Each topic's effect pooled over the done trainings of staff in ``store_ids``,
    topics alphabetically."""
    channels = ranking_channels(session)
    by_topic: dict[str, list[TrainingEffect]] = defaultdict(list)
    for row in list_trainings(session, store_ids, (TrainingState.DONE,)):
        by_topic[row.topic].append(_effect(session, row, weeks, channels))
    topics = []
    for topic in sorted(by_topic):
        effects = by_topic[topic]
        topics.append(
            TopicEffect(
                topic=topic,
                nps=pooled_effect([e.nps for e in effects if e.nps is not None]),
                csat=pooled_effect([e.csat for e in effects if e.csat is not None]),
                trainings=len(effects),
                trainees=len({e.training.staff_id for e in effects}),
            )
        )
    return topics


def training_effects_for_review(
    session: Session, store_ids: Collection[int], month_start: date, month_end: date
) -> list[TrainingEffectRow]:
    """The trainings a monthly review reports: done trainings of staff in ``store_ids``
    whose weeks after (`WEEKS`) closed within [month_start, month_end), so that their
    effect is read on complete weeks; by day, then staff name. An effect without enough
    answers is ``None`` with words ``too_early``.
    """
    channels = ranking_channels(session)
    first = month_start - timedelta(weeks=WEEKS)
    last = month_end - timedelta(weeks=WEEKS)
    stmt = (
        _rows(store_ids)
        .where(
            Training.state == TrainingState.DONE,
            Training.trained_on >= first,
            Training.trained_on < last,
        )
        .order_by(Training.trained_on, Staff.name, Training.id)
    )
    rows = []
    for training, staff, store in session.execute(stmt).tuples():
        effect = _effect(session, _row(training, staff, store), WEEKS, channels)
        assert effect.nps is not None and effect.csat is not None
        rows.append(
            TrainingEffectRow(
                training_id=training.id,
                staff_id=staff.id,
                staff_name=staff.name,
                store_id=store.id,
                topic=training.topic,
                touchpoint=training.touchpoint,
                trained_on=training.trained_on,
                nps=effect.nps.effect,
                csat=effect.csat.effect,
                person_before=effect.nps.person_before,
                person_after=effect.nps.person_after,
                peers_before=effect.nps.peers_before,
                peers_after=effect.nps.peers_after,
                words=verdict(effect.nps.effect),
            )
        )
    return rows
