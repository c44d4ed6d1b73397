"""Writes about jobs: queue one, claim a scheduled slot once, recover the jobs whose worker
was lost, purge old finished jobs.

Like every operation these only flush. `enqueue` hands the job to the queue engine after
the caller's commit (`portal.jobs.queue.send_after_commit`), so a worker never picks up a
job whose row it cannot see yet, and a rolled-back request queues nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.jobs.queue import current_queue, send_after_commit
from portal.jobs.registry import get_kind
from portal.models import FINISHED_STATES, Job, JobResultChunk, JobStatus, ScheduledRun, User
from portal.models.jobs import LOST_WORKER


def enqueue(
    session: Session,
    kind: str,
    params: Mapping[str, Any],
    user: User | None,
    *,
    now: datetime,
) -> Job:
    """Add a queued job of ``kind`` with ``params`` (JSON values) asked by ``user`` (none
    for scheduled work); the queue engine gets it once the caller commits.

    Raises
    ------
    portal.jobs.registry.UnknownJobKind
        No job kind of that name is registered.
    """
    get_kind(kind)
    queue = current_queue()
    job = Job(
        kind=kind,
        params=dict(params),
        status=JobStatus.QUEUED,
        progress_done=0,
        attempts=0,
        max_attempts=queue.settings.job_max_attempts,
        requested_by_user_id=None if user is None else user.id,
        created_at=now,
    )
    session.add(job)
    session.flush()
    send_after_commit(session, queue, job.id)
    return job


def claim_slot(session: Session, kind: str, slot: str, *, now: datetime) -> Job | None:
    """Claim the scheduled ``slot`` of ``kind`` and queue its job; ``None`` when another
    worker claimed it first (the unique key on kind and slot decides, whatever the number
    of workers and servers)."""
    run = ScheduledRun(kind=kind, slot=slot, started_at=now)
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError:
        return None
    job = enqueue(session, kind, {"slot": slot}, None, now=now)
    run.job_id = job.id
    session.flush()
    return job


def purge_finished_jobs(session: Session, *, now: datetime, days: int) -> int:
    """Delete jobs finished more than ``days`` ago with their result files, and the
    scheduled slots claimed before then (their dates never come back); the number of jobs."""
    cutoff = now - timedelta(days=days)
    old = select(Job.id).where(Job.status.in_(FINISHED_STATES), Job.finished_at < cutoff)
    session.execute(delete(JobResultChunk).where(JobResultChunk.job_id.in_(old)))
    session.execute(delete(ScheduledRun).where(ScheduledRun.started_at < cutoff))
    removed = session.execute(
        delete(Job)
        .where(Job.status.in_(FINISHED_STATES), Job.finished_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(getattr(removed, "rowcount", 0) or 0)


def after_failure(attempts: int, max_attempts: int, error: str, now: datetime) -> dict[str, Any]:
    """The job's columns after a failed attempt (an error, or its worker lost): queued again
    while attempts remain, else failed for good."""
    again = attempts < max_attempts
    return {
        "status": JobStatus.QUEUED if again else JobStatus.FAILED,
        "error": error,
        "finished_at": None if again else now,
    }


def recover_lost_jobs(session: Session, *, now: datetime, lease: timedelta) -> list[int]:
    """Put back in the queue the running jobs whose heartbeat is older than ``lease`` (their
    worker was killed or its machine stopped), or fail those with no attempt left; the ids
    queued again, sent to the engine once the caller commits.

    Each job moves only if it is still running with that old heartbeat, so two workers
    recovering at once move it once, and a job whose worker beats again is left alone.
    """
    cutoff = now - lease
    lost = session.execute(
        select(Job.id, Job.attempts, Job.max_attempts).where(
            Job.status == JobStatus.RUNNING, Job.heartbeat_at < cutoff
        )
    ).all()
    queue = current_queue()
    requeued = []
    for job_id, attempts, max_attempts in lost:
        values = after_failure(attempts, max_attempts, LOST_WORKER, now)
        moved = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.heartbeat_at < cutoff)
            .values(**values)
        )
        if getattr(moved, "rowcount", 0) and values["status"] == JobStatus.QUEUED:
            send_after_commit(session, queue, job_id)
            requeued.append(job_id)
    session.flush()
    return requeued
