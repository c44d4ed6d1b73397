"""Assigning a training, marking it done and cancelling it: plain functions over a session
that only flush. Each change is versioned (`Training.version`): of two HR reviewers
changing one training at once, the second is refused with the stale-form message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.calendar import local_today
from portal.errors import DomainError, NotFound
from portal.models import Staff, Training, TrainingState
from portal.workflow import (
    Change,
    InvalidTransition,
    Workflow,
    check_version,
    move,
    record_change,
)

TOPIC_LENGTH = 100
TRAINER_LENGTH = 100
NOTE_LENGTH = 2000


class InvalidTraining(DomainError):
    status = 400
    code = "invalid_training"


def _no_timeline(session: Session, row: Any, change: Change) -> None:
    # A training keeps its history in the audit log and its own columns.
    return None


TRAININGS = Workflow(
    name="training",
    subject_type="training",
    allowed={
        TrainingState.ASSIGNED: frozenset({TrainingState.DONE, TrainingState.CANCELLED}),
        TrainingState.DONE: frozenset(),
        TrainingState.CANCELLED: frozenset(),
    },
    refused=lambda state, target: _l("This training is no longer open: it was done or cancelled."),
    timeline=_no_timeline,
)


@dataclass(frozen=True, slots=True)
class TrainingValues:
    """What HR enters: topic (free text), a mystery touchpoint key or "", the day, the
    trainer and a note."""

    topic: str
    touchpoint: str
    trained_on: date
    trainer: str
    note: str = ""


def _checked(values: TrainingValues, touchpoints: set[str]) -> TrainingValues:
    topic, trainer = " ".join(values.topic.split()), " ".join(values.trainer.split())
    if not topic:
        raise InvalidTraining(_l("Name the topic of the training."), field="topic")
    if len(topic) > TOPIC_LENGTH:
        raise InvalidTraining(_l("At most %(n)s characters.", n=TOPIC_LENGTH), field="topic")
    if not trainer:
        raise InvalidTraining(_l("Name who gives the training."), field="trainer")
    if len(trainer) > TRAINER_LENGTH:
        raise InvalidTraining(_l("At most %(n)s characters.", n=TRAINER_LENGTH), field="trainer")
    if values.touchpoint and values.touchpoint not in touchpoints:
        raise InvalidTraining(_l("Choose a touchpoint from the list."), field="touchpoint")
    note = values.note.strip()
    if len(note) > NOTE_LENGTH:
        raise InvalidTraining(_l("At most %(n)s characters.", n=NOTE_LENGTH), field="note")
    return TrainingValues(topic, values.touchpoint, values.trained_on, trainer, note)


def assign_training(
    session: Session,
    staff_id: int,
    values: TrainingValues,
    *,
    touchpoints: set[str],
    actor: Actor,
    now: datetime,
) -> Training:
    """Add an assigned training for ``staff_id`` and its audit entry ("training.assigned");
    flushed, not committed. ``touchpoints`` are the keys the touchpoint may take.

    Raises
    ------
    NotFound
        No such staff member.
    InvalidTraining
        On the field at fault (topic, trainer, touchpoint, note).
    """
    if session.get(Staff, staff_id) is None:
        raise NotFound()
    clean = _checked(values, touchpoints)
    training = Training(
        staff_id=staff_id,
        topic=clean.topic,
        touchpoint=clean.touchpoint,
        trained_on=clean.trained_on,
        trainer=clean.trainer,
        note=clean.note,
        state=TrainingState.ASSIGNED,
        assigned_at=now,
        assigned_by_user_id=actor.user_id,
    )
    session.add(training)
    session.flush()
    record_change(
        session,
        TRAININGS,
        training,
        actor,
        "assigned",
        now,
        staff_id=staff_id,
        topic=clean.topic,
        trained_on=clean.trained_on.isoformat(),
    )
    return training


def _load(session: Session, training_id: int) -> Training:
    training = session.get(Training, training_id)
    if training is None:
        raise NotFound()
    return training


def mark_done(
    session: Session,
    training_id: int,
    *,
    expected_version: int | None,
    actor: Actor,
    now: datetime,
) -> Training:
    """Mark an assigned training done with its audit entry ("training.done"); flushed.

    Raises
    ------
    InvalidTransition
        Done or cancelled already, or changed since the page showed it.
    InvalidTraining
        Its day (China time) is still to come.
    """
    training = _load(session, training_id)
    check_version(training, expected_version)
    if training.state == TrainingState.ASSIGNED and training.trained_on > local_today(None, now):
        raise InvalidTraining(_l("A training cannot be marked done before its day."))
    from_state = move(TRAININGS, training, TrainingState.DONE, expected_version)
    training.done_at = now
    training.done_by_user_id = actor.user_id
    record_change(
        session,
        TRAININGS,
        training,
        actor,
        "done",
        now,
        from_state=from_state,
        trained_on=training.trained_on.isoformat(),
    )
    return training


def cancel_training(
    session: Session, training_id: int, *, expected_version: int | None, actor: Actor, now: datetime
) -> Training:
    """Cancel an assigned training, with its audit entry ("training.cancelled"); flushed.

    Raises
    ------
    InvalidTransition
        Done or cancelled already, or changed since the page showed it.
    """
    training = _load(session, training_id)
    from_state = move(TRAININGS, training, TrainingState.CANCELLED, expected_version)
    record_change(session, TRAININGS, training, actor, "cancelled", now, from_state=from_state)
    return training


__all__ = [
    "TRAININGS",
    "InvalidTraining",
    "InvalidTransition",
    "TrainingValues",
    "assign_training",
    "cancel_training",
    "mark_done",
]
