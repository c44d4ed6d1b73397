"""Domain errors and the one place that turns them, HTTP errors and database outages into
answers.

Operations raise a `DomainError` subclass; under ``/api/`` the answer is a JSON body
``{"error": {"code", "message", "field"}}``, elsewhere a plain page in the shopper's language.
A database that is busy (locked) or unreachable is not the user's fault and not a bug: the
transaction is rolled back and the answer is a 503 with ``Retry-After``, showing the page
the user posted from again with what they typed when the view said how (`keep_typed_values`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

#: Seconds a client is asked to wait before retrying after a database outage.
RETRY_AFTER_SECONDS = 5

UNAVAILABLE_MESSAGE = _l(
    "We could not save this just now: nothing was saved, and what you typed is kept. "
    "Please wait a few seconds and send it again."
)


class DomainError(Exception):
    """A request that cannot be done as asked; never a server fault."""

    status = 400
    code = "invalid"
    message: Any = _l("This request cannot be completed.")

    def __init__(self, message: Any = None, *, field: str | None = None) -> None:
        super().__init__(str(message or self.message))
        if message is not None:
            self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = _l("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = _l("This conflicts with what is already recorded.")


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: Any, field: str | None = None) -> Any:
    if is_api_request():
        body = {"error": {"code": code, "message": str(message), "field": field}}
        return jsonify(body), status
    g.rendering_error = True
    return render_template("errors/error.html", status=status, message=message), status


def is_database_unavailable(error: BaseException) -> bool:
    """A fault of the database server or its connection, not of the request or the code:
    locked, busy, unreachable, dropped connection, or no free connection in the pool."""
    if isinstance(error, sa_exc.DBAPIError):
        return isinstance(error, sa_exc.OperationalError) or error.connection_invalidated
    return isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError)


def keep_typed_values(render: Callable[[Any], Any]) -> None:
    """Say how this request's page is shown again, with what the user typed, if the
    database fails before the response: ``render(message)`` returns the page (a body, or a
    ``(body, status)`` pair whose status is replaced by 503)."""
    g.unavailable_page = render


def _unavailable_page() -> Any:
    render = g.pop("unavailable_page", None)
    if render is not None and not is_api_request():
        try:
            page = render(UNAVAILABLE_MESSAGE)
            return page[0] if isinstance(page, tuple) else page
        except sa_exc.SQLAlchemyError:
            # Re-reading the page's data failed too (the database is down, not just busy).
            _rollback_request_session()
    return error_response(503, "unavailable", UNAVAILABLE_MESSAGE)


def _rollback_request_session() -> None:
    session = g.get("db_session")
    if session is None:
        return
    try:
        session.rollback()
    except sa_exc.SQLAlchemyError:
        # A dropped connection cannot roll back; closing the session discards it.
        session.close()


def database_unavailable(error: Exception) -> Any:
    """Roll the request's transaction back and answer 503 with ``Retry-After``."""
    if not is_database_unavailable(error):
        raise error
    _rollback_request_session()
    # The driver's message only: the statement's parameters may hold a shopper's contact.
    reason = getattr(error, "orig", None) or error.__class__.__name__
    current_app.logger.warning("database unavailable, answered 503: %s", reason)
    response = current_app.make_response(_unavailable_page())
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    for error_class in (sa_exc.DBAPIError, sa_exc.DisconnectionError, sa_exc.TimeoutError):
        app.register_error_handler(error_class, database_unavailable)

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Any:
        return error_response(error.status, error.code, error.message, error.field)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if error.code is None:
            return error
        messages = {
            400: _l("The request was not understood."),
            401: _l("Please sign in."),
            403: _l("You do not have access to this page."),
            404: _l("This page does not exist."),
            405: _l("This method is not allowed here."),
            413: _l("The request is too large."),
            415: _l("Send the request as application/json."),
            429: _l("Too many attempts. Please wait a little and try again."),
        }
        code = (error.name or "error").lower().replace(" ", "_")
        response = app.make_response(
            error_response(error.code, code, messages.get(error.code, error.name))
        )
        # Keep headers the exception carries (Retry-After from the limiter, Allow on 405).
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
