"""What a running job gets: its parameters, short transactions of its own, a progress
reporter and a result file written into the database a chunk at a time.

Every write here is its own short transaction: a job that reads for minutes never holds
the database's write lock (SQLite has one) longer than one chunk or one progress update.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from portal.config import Settings
from portal.models import Job, JobResultChunk

#: Bytes per stored piece of a result file: memory holds at most one piece.
CHUNK_BYTES = 512 * 1024


@dataclass
class JobContext:
    """A job as its function sees it (`portal.jobs.registry.job_kind`)."""

    app: Flask
    job_id: int
    requested_by_user_id: int | None
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.config["PORTAL_SETTINGS"]
        return settings

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a write transaction of its own, committed on leaving."""
        _bind, _readers, writers = self.app.extensions["portal.db"]
        with writers() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reading (on SQLite: without the write lock), closed on leaving."""
        _bind, readers, _writers = self.app.extensions["portal.db"]
        with readers() as session:
            yield session

    def report(self, done: int, total: int | None = None) -> None:
        """Record how far the job is: ``done`` of ``total`` (``None``: unknown yet)."""
        values: dict[str, Any] = {"progress_done": done}
        if total is not None:
            values["progress_total"] = total
        with self.transaction() as session:
            session.execute(update(Job).where(Job.id == self.job_id).values(**values))

    def result_file(self, filename: str, mimetype: str) -> ResultFile:
        """The job's result file, replacing any piece an earlier attempt left."""
        with self.transaction() as session:
            session.execute(delete(JobResultChunk).where(JobResultChunk.job_id == self.job_id))
        return ResultFile(self, filename, mimetype)


class ResultFile:
    """A write-only binary file stored as `JobResultChunk` rows; closing it records the
    file's name, type and size on the job."""

    def __init__(self, context: JobContext, filename: str, mimetype: str) -> None:
        self._context = context
        self._filename, self._mimetype = filename, mimetype
        self._buffer = bytearray()
        self._seq = 0
        self.size = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) >= CHUNK_BYTES:
            self._store(bytes(self._buffer[:CHUNK_BYTES]))
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def close(self) -> None:
        if self._buffer or self._seq == 0:
            self._store(bytes(self._buffer))
            self._buffer.clear()
        with self._context.transaction() as session:
            session.execute(
                update(Job)
                .where(Job.id == self._context.job_id)
                .values(
                    result_filename=self._filename,
                    result_mimetype=self._mimetype,
                    result_size=self.size,
                )
            )

    def __enter__(self) -> ResultFile:
        return self

    def __exit__(self, kind: object, *_rest: object) -> None:
        # A failed write leaves no result on the job: the next attempt starts again.
        if kind is None:
            self.close()

    def _store(self, data: bytes) -> None:
        with self._context.transaction() as session:
            session.add(JobResultChunk(job_id=self._context.job_id, seq=self._seq, data=data))
        self._seq += 1
