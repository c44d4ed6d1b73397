"""Jobs: long and scheduled work as the user sees it (`portal.jobs`).

The queue engine (huey, on SQLite or Redis) only carries a job's id; what a user sees —
its state, progress, attempts, error and result file — lives here, in the portal's own
database, so that any app server shows it and serves the result. The result is stored in
chunks (`JobResultChunk`) so that it is written and read a piece at a time. A scheduled
job's slot (`ScheduledRun`) is claimed by an insert that only one worker wins.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, intpk, utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


#: The error of a job whose worker was lost (`portal.jobs.queries.JobView.error_text`
#: words it in the reader's language).
LOST_WORKER = "lost-worker"

#: The states a job no longer leaves.
FINISHED_STATES = (JobStatus.DONE, JobStatus.FAILED)


class Job(Base):
    """One piece of work: what it is (``kind`` and ``params``), who asked (none for a
    scheduled job), where it stands, and its result file once done."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        Index("ix_jobs_requested_by_created_at", "requested_by_user_id", "created_at"),
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(8), default=JobStatus.QUEUED, index=True)
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0)
    #: ``None`` while the job does not know how much there is to do.
    progress_total: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    #: The last attempt's error, in words (the traceback goes to the log only).
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    #: Renewed by the worker while the job runs: a running job whose heartbeat stopped
    #: lost its worker (`portal.jobs.operations.recover_lost_jobs`).
    heartbeat_at: Mapped[datetime | None]
    result_filename: Mapped[str | None] = mapped_column(String(200))
    result_mimetype: Mapped[str | None] = mapped_column(String(100))
    result_size: Mapped[int | None] = mapped_column(BigInteger)


class JobResultChunk(Base):
    """One piece of a job's result file, in ``seq`` order from 0."""

    __tablename__ = "job_result_chunks"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ScheduledRun(Base):
    """A scheduled job's slot (``2026-12-06``, ``2026-12-06T14``…), claimed once: the
    unique key lets exactly one worker insert it, whatever the number of workers."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (UniqueConstraint("kind", "slot"),)

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(String(40))
    slot: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The job the slot's work runs as.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
