"""Queueing a job in a test as a view does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from portal.db import get_session, utcnow
from portal.jobs.operations import enqueue
from portal.models import User


def queue_job(app: Flask, kind: str, params: Mapping[str, Any], user: User | None) -> int:
    """Queue a job as a view does: enqueue, then commit (which sends it); its id."""
    with app.test_request_context("/", method="POST"):
        session = get_session()
        job = enqueue(session, kind, params, user, now=utcnow())
        session.commit()
        return job.id
