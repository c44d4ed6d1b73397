"""Jobs run in huey's immediate mode here unless a test builds its own queue; retries do
not wait (``job_retry_seconds=0``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask_babel import lazy_gettext as _l

from portal.config import Settings
from portal.jobs.context import JobContext
from portal.jobs.registry import job_kind
from tests.conftest import SETTINGS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return replace(
        SETTINGS.with_instance(str(tmp_path / "instance")),
        job_queue="immediate",
        job_retry_seconds=0,
    )


#: How many times each test kind has been called, by the parameter ``key``.
CALLS: dict[str, int] = {}


@job_kind("test-lines", _l("Test lines"))
def write_lines(context: JobContext, params: Mapping[str, Any]) -> None:
    """Writes ``count`` numbered lines as a text file, reporting progress per line."""
    count = int(params["count"])
    context.report(0, count)
    with context.result_file("lines.txt", "text/plain") as out:
        for n in range(count):
            out.write(f"line {n}\n".encode())
            context.report(n + 1)


@job_kind("test-flaky", _l("Test flaky"))
def fail_until(context: JobContext, params: Mapping[str, Any]) -> None:
    """Fails the first ``failures`` calls for its ``key`` with "the till exploded"."""
    key = params["key"]
    CALLS[key] = CALLS.get(key, 0) + 1
    if CALLS[key] <= int(params["failures"]):
        raise ValueError(f"the till exploded (call {CALLS[key]})")
    with context.result_file("ok.txt", "text/plain") as out:
        out.write(b"ok")
