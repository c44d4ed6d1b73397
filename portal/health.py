"""Liveness and readiness for load balancers, orchestrators and the deploy scripts.

- ``GET /healthz``: the process is up and answering (no database, nothing else);
- ``GET /readyz``: the database answers and its schema is at the code's migration head;
  503 with a short reason otherwise (unreachable, not initialised, behind or ahead of the
  code), so that a proxy sends no traffic to a server that would fail every page.

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

from portal.schema import code_heads, database_heads

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def readiness_problem(bind: Engine | Connection) -> str | None:
    """Why a server on ``bind`` should get no traffic yet, or None when it is ready."""
    try:
        with _connection(bind) as conn:
            heads = database_heads(conn)
    except SQLAlchemyError:
        return "database unreachable"
    if not heads:
        return "database not initialised (run init-db)"
    if heads != code_heads():
        return "database schema is not at this code's migration (run init-db)"
    return None


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
        problem = readiness_problem(self.bind)
        if problem is None:
            return _answer(start_response, "200 OK", "ready", method)
        return _answer(start_response, "503 Service Unavailable", problem, method)


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
