"""Reads about jobs for the pages: a user's own jobs (an admin's: everyone's), one job if
the user may see it, and its result file a chunk at a time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import NotFound
from portal.models import Job, JobResultChunk, JobStatus, Role, User
from portal.models.jobs import LOST_WORKER

#: Jobs listed on ``/jobs``, newest first.
LIST_LIMIT = 100


class UnknownJob(NotFound):
    """No such job among those the user may see: the same answer whether it exists or not."""

    code = "unknown_job"
    message = _l("There is no such job among yours.")


@dataclass(frozen=True, slots=True)
class JobView:
    id: int
    kind: str
    status: str
    progress_done: int
    progress_total: int | None
    attempts: int
    max_attempts: int
    error: str | None
    requested_by_user_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result_filename: str | None
    result_mimetype: str | None
    result_size: int | None

    @property
    def active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def downloadable(self) -> bool:
        return self.status == JobStatus.DONE and self.result_filename is not None

    @property
    def error_text(self) -> str | None:
        """The last attempt's error in words (a lost worker's in the reader's language)."""
        if self.error == LOST_WORKER:
            return str(_l("the worker running it stopped before it finished"))
        return self.error

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))


_COLUMNS = tuple(getattr(Job, name) for name in JobView.__slots__)


def list_jobs(session: Session, user: User) -> list[JobView]:
    """The newest jobs ``user`` may see: their own, or every job for an admin."""
    stmt = select(*_COLUMNS).order_by(Job.id.desc()).limit(LIST_LIMIT)
    if user.role != Role.ADMIN:
        stmt = stmt.where(Job.requested_by_user_id == user.id)
    return [JobView(*row) for row in session.execute(stmt)]


def get_job(session: Session, user: User, job_id: int) -> JobView:
    """Job ``job_id`` if ``user`` asked for it or is an admin.

    Raises
    ------
    UnknownJob
        No such job, or another user's (the two are not told apart).
    """
    stmt = select(*_COLUMNS).where(Job.id == job_id)
    if user.role != Role.ADMIN:
        stmt = stmt.where(Job.requested_by_user_id == user.id)
    row = session.execute(stmt).first()
    if row is None:
        raise UnknownJob()
    return JobView(*row)


def iter_result(session: Session, job_id: int) -> Iterator[bytes]:
    """The job's result file, one stored chunk per round trip (memory holds one)."""
    seq = 0
    while True:
        data = session.scalar(
            select(JobResultChunk.data).where(
                JobResultChunk.job_id == job_id, JobResultChunk.seq == seq
            )
        )
        if data is None:
            return
        yield bytes(data)
        seq += 1
