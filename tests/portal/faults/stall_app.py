"""The portal exactly as gunicorn serves it, plus one test-only hook (nothing in ``portal/``):
a request carrying ``X-Fault-Stall`` stops at a chosen point and waits there until the test
kills the server, so that a kill lands at that point by condition, not by timing.

- ``in-transaction``: at the request's first commit, once its rows are flushed (the
  response, its rollups, its audit entry and its case are written inside the open
  transaction), before the commit itself.
- ``committed``: just after the request's first commit, before the answer is made and sent.
  A view that committed its work in two steps would be caught here half-way.

The worker writes ``<instance>/stalled-<point>`` when it has stopped, for the test to wait
on. Served as ``tests.portal.faults.stall_app:create_app()``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

import portal

HEADER = "X-Fault-Stall"
IN_TRANSACTION = "in-transaction"
COMMITTED = "committed"
#: How long a stalled request waits for its kill at most (the test kills far sooner).
STALL_LIMIT_SECONDS = 30.0


def marker(instance: Path, point: str) -> Path:
    return instance / f"stalled-{point}"


def create_app() -> Flask:
    app = portal.create_app()
    instance = Path(app.instance_path)

    def stalls(point: str, session: Session) -> bool:
        # Releasing a savepoint fires the commit events too: only the real commit counts.
        if session.in_nested_transaction() or not has_request_context():
            return False
        return request.headers.get(HEADER) == point

    def stall(point: str) -> None:
        marker(instance, point).write_text(str(os.getpid()))
        threading.Event().wait(STALL_LIMIT_SECONDS)

    @event.listens_for(Session, "before_commit")
    def _before_commit(session: Session) -> None:
        if stalls(IN_TRANSACTION, session):
            session.flush()  # everything is written; only the commit is missing
            stall(IN_TRANSACTION)

    @event.listens_for(Session, "after_commit")
    def _after_commit(session: Session) -> None:
        if stalls(COMMITTED, session):
            stall(COMMITTED)

    return app
