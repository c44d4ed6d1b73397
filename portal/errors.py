"""Domain errors and the one place that turns them, and HTTP errors, into 4xx answers.

Operations raise a `DomainError` subclass; under ``/api/`` the answer is a JSON body
``{"error": {"code", "message", "field"}}``, elsewhere a plain page in the shopper's language.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException


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


def init_app(app: Flask) -> None:
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
