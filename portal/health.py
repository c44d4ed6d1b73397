"""Liveness and readiness for load balancers, orchestrators and the deploy scripts.

- ``GET /healthz``: the process is up and answering (no database, nothing else);
- ``GET /readyz``: the database answers and its schema is at the code's migration head;
  503 with a short reason otherwise (unreachable, not initialised, behind the code), so
  that a proxy sends no traffic to a server that would fail every page. A schema newer
  than the code is ready: during a rolling upgrade the servers not yet restarted go on
  serving after ``init-db`` (migrations add, they do not take away).

Both are answered by a WSGI layer in front of the Flask application: no session, cookie,
locale, host check or CSRF, and no sign-in; a probe costs the readiness query and nothing
else. They say nothing about the data, so they may be open to anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from portal.schema import code_heads, code_revisions, database_heads

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def readiness(bind: Engine | Connection) -> tuple[bool, str]:
    """Whether a server on ``bind`` may take traffic, and the reason in a few words."""
    try:
        with _connection(bind) as conn:
            heads = database_heads(conn)
    except SQLAlchemyError:
        return False, "database unreachable"
    if not heads:
        return False, "database not initialised (run init-db)"
    if heads == code_heads():
        return True, "ready"
    if heads <= code_revisions():
        return False, "database schema is behind this code (run init-db)"
    return True, "ready (database schema is newer than this code: restart on the new code)"


@contextmanager
def _connection(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        # The tests' connection inside their transaction: a failed read must not abort it.
        with bind.begin_nested():
            yield bind
        return
    with bind.connect() as conn:
        yield conn


class HealthChecks:
    """Answers `LIVENESS_PATH` and `READINESS_PATH`; passes every other request on."""

    def __init__(self, app: WSGIApp, bind: Engine | Connection) -> None:
        self.app = app
        self.bind = bind

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path not in (LIVENESS_PATH, READINESS_PATH):
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", "GET or HEAD only", method)
        if path == LIVENESS_PATH:
            return _answer(start_response, "200 OK", "ok", method)
        ready, reason = readiness(self.bind)
        status = "200 OK" if ready else "503 Service Unavailable"
        return _answer(start_response, status, reason, method)


def _answer(start_response: StartResponse, status: str, text: str, method: str) -> list[bytes]:
    body = f"{text}\n".encode()
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if status.startswith("405"):
        headers.append(("Allow", "GET, HEAD"))
    start_response(status, headers)
    return [] if method == "HEAD" else [body]
