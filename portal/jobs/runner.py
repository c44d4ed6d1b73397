"""Running one job: claim it, call its kind's function, record the outcome.

The runner opens its own app context and short transactions (`JobContext`). A job is
claimed by moving it from queued to running in one UPDATE, so a job the engine delivers
twice runs once; while it runs, its heartbeat is renewed, so a job whose worker was killed
is found and queued again (`portal.jobs.operations.recover_lost_jobs`). A failure is
logged with its traceback and recorded on the job in words; the job is queued again after
a growing delay until its attempts are used up, then shown as failed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from portal.db import utcnow
from portal.errors import DomainError
from portal.jobs.context import JobContext
from portal.jobs.operations import after_failure
from portal.jobs.queue import JobQueue
from portal.jobs.registry import get_kind
from portal.models import Job, JobStatus

log = logging.getLogger(__name__)

#: Longest error text kept on a job: the message, not a dump.
MAX_ERROR_CHARS = 500
#: How often the worker of a running job renews its heartbeat. A job silent for many beats
#: (`portal.jobs.scheduled_work.LOST_AFTER`) lost its worker and is queued again.
HEARTBEAT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class _Claimed:
    kind: str
    params: dict[str, Any]
    requested_by_user_id: int | None
    attempts: int
    max_attempts: int


def run_job(app: Flask, job_id: int) -> None:
    """Run job ``job_id`` if it is still queued; record done, or the failure."""
    with app.app_context():
        context = JobContext(app, job_id, None)
        claimed = _claim(context, utcnow())
        if claimed is None:
            return
        context.requested_by_user_id = claimed.requested_by_user_id
        context.params = claimed.params
        try:
            with _Heartbeat(context):
                get_kind(claimed.kind).run(context, claimed.params)
        except Exception as error:
            log.exception(
                "job %s (%s) failed on attempt %s of %s",
                job_id,
                claimed.kind,
                claimed.attempts,
                claimed.max_attempts,
            )
            _record_failure(context, claimed, error, utcnow())
            return
        with context.transaction() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status=JobStatus.DONE, error=None, finished_at=utcnow())
            )


def _claim(context: JobContext, now: datetime) -> _Claimed | None:
    with context.transaction() as session:
        moved = session.execute(
            update(Job)
            .where(Job.id == context.job_id, Job.status == JobStatus.QUEUED)
            .values(
                status=JobStatus.RUNNING,
                attempts=Job.attempts + 1,
                started_at=now,
                heartbeat_at=now,
            )
        )
        if not getattr(moved, "rowcount", 0):
            # Gone (purged), or running or finished already: delivered twice.
            return None
        row = session.execute(
            select(
                Job.kind, Job.params, Job.requested_by_user_id, Job.attempts, Job.max_attempts
            ).where(Job.id == context.job_id)
        ).one()
    return _Claimed(row[0], dict(row[1] or {}), row[2], row[3], row[4])


class _Heartbeat:
    """While the job runs, a thread renews its heartbeat every `HEARTBEAT_SECONDS`, so that
    a job whose worker died can be told from one that is only long."""

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"job-{context.job_id}-heartbeat", daemon=True
        )

    def __enter__(self) -> None:
        self._thread.start()

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                with self.context.transaction() as session:
                    session.execute(
                        update(Job)
                        .where(Job.id == self.context.job_id, Job.status == JobStatus.RUNNING)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception:
                # A busy or unreachable database: the next beat tries again, and the lease
                # spans many beats.
                log.warning("job %s: heartbeat not recorded", self.context.job_id, exc_info=True)


def describe_error(error: BaseException) -> str:
    """What a user is told of a failure: the refusal's message, or the error's kind and
    first line (the traceback stays in the log)."""
    if isinstance(error, DomainError):
        text = str(error.message)
    else:
        first = (str(error).strip().splitlines() or [""])[0]
        text = f"{type(error).__name__}: {first}" if first else type(error).__name__
    return text[:MAX_ERROR_CHARS]


def _record_failure(
    context: JobContext, claimed: _Claimed, error: Exception, now: datetime
) -> None:
    values = after_failure(claimed.attempts, claimed.max_attempts, describe_error(error), now)
    with context.transaction() as session:
        session.execute(update(Job).where(Job.id == context.job_id).values(**values))
    if values["status"] == JobStatus.QUEUED:
        queue: JobQueue = context.app.extensions["portal.jobs"]
        delay = context.settings.job_retry_seconds * 2 ** (claimed.attempts - 1)
        queue.send(context.job_id, delay=delay)
