"""The scheduled jobs: when each runs, and the slot a tick claims.

Every consumer's scheduler (in-process threads or ``worker`` processes, on any server)
fires the same ticks; each tick claims its slot in ``scheduled_runs`` (`claim_slot`) and
only the worker whose insert wins queues the job, so a slot's work runs once whatever the
number of workers. The job itself then runs, and is retried, like any other.

Times are UTC (huey's clock); in brackets the time in China (UTC+8), where the chain's
stores are by default:

========================  ===================  ================  ====================
kind                      when (UTC)           slot              same as the command
========================  ===================  ================  ====================
``send-mail``             every 5 minutes      the 5 minutes     ``send-mail``
``recover-jobs``          every 5 minutes      the 5 minutes     (none: jobs only)
``overdue``               hourly at :10        the hour          ``overdue``
``purge``                 daily 19:00 (03:00)  the day           ``purge``
``reclassify-comments``   daily 19:30 (03:30)  the day           ``reclassify-comments``
``check-alerts``          daily 22:30 (06:30)  the day           ``check-alerts``
``monthly-review``        daily 23:00 (07:00)  the day           ``monthly-review``
``award-cycle``           daily 23:15 (07:15)  the day           ``award-cycle``
========================  ===================  ================  ====================

The monthly ones run daily, as their commands are meant to: they do their month's work on
the first day it is due and find it done on the others (after downtime the first run
catches up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from huey import crontab

from portal.db import utcnow

Slot = Callable[[datetime], str]


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _hour(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H")


def _five_minutes(moment: datetime) -> str:
    return moment.replace(minute=moment.minute - moment.minute % 5).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True, slots=True)
class Schedule:
    kind: str
    when: Callable[[datetime], bool]
    slot: Slot


SCHEDULES = (
    Schedule("send-mail", crontab(minute="*/5"), _five_minutes),
    Schedule("recover-jobs", crontab(minute="*/5"), _five_minutes),
    Schedule("overdue", crontab(minute="10"), _hour),
    Schedule("purge", crontab(minute="0", hour="19"), _day),
    Schedule("reclassify-comments", crontab(minute="30", hour="19"), _day),
    Schedule("check-alerts", crontab(minute="30", hour="22"), _day),
    Schedule("monthly-review", crontab(minute="0", hour="23"), _day),
    Schedule("award-cycle", crontab(minute="15", hour="23"), _day),
)


def get_schedule(kind: str) -> Schedule:
    return next(schedule for schedule in SCHEDULES if schedule.kind == kind)


def fire_schedule(app: Flask, kind: str, now: datetime | None = None) -> int | None:
    """One tick of ``kind``'s schedule: claim its slot and queue its job, unless another
    worker claimed the slot first; the job's id, or ``None``."""
    # Imported here: operations imports the queue, which imports this module.
    from portal.jobs.operations import claim_slot

    now = now or utcnow()
    slot = get_schedule(kind).slot(now)
    _bind, _readers, writers = app.extensions["portal.db"]
    with app.app_context(), writers() as session:
        with session.begin():
            job = claim_slot(session, kind, slot, now=now)
        return None if job is None else job.id
