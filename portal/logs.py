"""Keeping secrets and personal data out of the logs (SECURITY.md, "Logs").

Survey and follow-up tokens travel in paths (``/r/<token>``, ``/f/<token>``), short codes in
forms and messages, POS keys and API tokens (``pos_…``, ``pat_…``) in ``Authorization``
headers, and shoppers' phone numbers and e-mail addresses in comments. None of them may
reach an access or error log, where they outlive every retention rule.

- `redact` is the one function that rewrites a log line;
- `RedactingFilter` applies it to a record (message, arguments, traceback);
- `install` makes every record of every logger pass through it (a log record factory), so
  that Flask's, Werkzeug's and gunicorn's own messages are covered too; `create_app` calls it;
- `GunicornLogger` redacts gunicorn's access-log atoms (request line, path, query, headers);
  ``gunicorn.conf.py`` and ``scripts/demo`` run gunicorn with it.

Every record also carries the id of the request it was written in (``request_id``): taken
from ``X-Request-ID`` when a trusted proxy sent a well-formed one, else made here, and sent
back in the response's ``X-Request-ID``. `configure` writes the lines as text or as JSON
(``PORTAL_LOG_FORMAT``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, request

from surveys.privacy import mask_personal_data

REDACTED = "[redacted]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Survey and follow-up links: /r/<token>, /f/<token> (the rest of the path is kept).
    (re.compile(r"(/[rf]/)[^/\s?#\"']+"), rf"\g<1>{REDACTED}"),
    # Secrets in query strings or form bodies.
    (
        re.compile(r"(?i)([?&;\s](?:code|token|key|api_key|password|phone|email)=)[^&\s\"']*"),
        rf"\g<1>{REDACTED}",
    ),
    # Authorization headers, in any spelling a log line may carry them.
    (
        re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic)\s+)?[^\s\"',}]+"),
        rf"\g<1>{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), rf"\g<1> {REDACTED}"),
    # POS keys and personal API tokens, wherever they appear.
    (re.compile(r"\b(pos|pat)_[A-Za-z0-9_\-]+"), rf"\g<1>_{REDACTED}"),
)

#: Receipt short codes: ten symbols of the code alphabet, as printed (ABCDE-12345) or typed
#: without the dash; only a candidate with a digit in it (not a word such as PRODUCTION).
_SHORT_CODE = re.compile(r"(?<![0-9A-Za-z\-])[0-9A-Z]{5}[\- ]?[0-9A-Z]{5}(?![0-9A-Za-z\-])")


def _short_code(match: re.Match[str]) -> str:
    text = match.group(0)
    return REDACTED if any(char.isdigit() for char in text) else text


def redact(text: str) -> str:
    """``text`` without tokens, short codes, keys, Authorization values or contact details."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return mask_personal_data(_SHORT_CODE.sub(_short_code, text))


class RedactingFilter(logging.Filter):
    """Rewrite a record's message (arguments merged in) and traceback through `redact`.

    It never drops a record; it only changes what the record says.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "portal_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: keep the template only, never the arguments
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record.portal_redacted = True


_installed = threading.Lock()
_factory_installed = False


def install() -> None:
    """Make every log record of this process redacted when it is created (once)."""
    global _factory_installed
    with _installed:
        if _factory_installed:
            return
        previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redact_record(record)
            record.request_id = _request_id.get()
            return record

        logging.setLogRecordFactory(factory)
        _factory_installed = True


try:  # gunicorn is the production server; the portal runs without it (flask run, tests).
    from gunicorn.glogging import Logger as _GunicornBase
except ImportError:  # pragma: no cover
    _GunicornBase = object


class GunicornLogger(_GunicornBase):
    """gunicorn's logger with every access-log atom redacted (``--logger-class``)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        install()
        for log in (self.error_log, self.access_log):
            log.addFilter(RedactingFilter())

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        # The access line is written after the app has answered: its request id is the
        # one the answer carries.
        sent = next((v for k, v in resp.headers if k.lower() == "x-request-id"), None)
        token = _request_id.set(sent if isinstance(sent, str) else None)
        try:
            super().access(resp, req, environ, request_time)
        finally:
            _request_id.reset(token)

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }


# Request ids and the line format.

REQUEST_ID_HEADER = "X-Request-ID"
#: A request id a proxy may hand on: letters, digits and ``._:-``, 1 to 128 of them (a
#: UUID, nginx's ``$request_id``); anything else could forge or break a log line.
WELL_FORMED_ID = re.compile(r"\A[A-Za-z0-9._:\-]{1,128}\Z")

_request_id: ContextVar[str | None] = ContextVar("portal_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being answered (None outside a request)."""
    return _request_id.get()


def request_id_for(header: str | None, *, trusted: bool) -> str:
    """The id of a request: the proxy's ``X-Request-ID`` when trusted and well formed
    (one id across the proxy's and every server's logs), else a new one."""
    if trusted and header and WELL_FORMED_ID.match(header):
        return header
    return uuid.uuid4().hex


def init_app(app: Flask, *, trust_header: bool) -> None:
    """Give each request an id, on every log line written while it runs and in its answer.

    Registered before every other ``before_request`` function, so their lines carry it.
    """

    @app.before_request
    def _start_request() -> None:
        _request_id.set(
            request_id_for(request.headers.get(REQUEST_ID_HEADER), trusted=trust_header)
        )

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        request_id = _request_id.get()
        if request_id is not None:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response

    @app.teardown_request
    def _end_request(_exc: BaseException | None) -> None:
        _request_id.set(None)


class TextFormatter(logging.Formatter):
    """One readable line: time, level, request id (``-`` outside a request), logger, message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            # A copy: the record goes on to other handlers, which must see None.
            record = logging.makeLogRecord({**record.__dict__, "request_id": "-"})
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, ``request_id`` (null outside a request), and ``error`` with a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", None)
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id if request_id != "-" else None,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["error"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``PORTAL_LOG_FORMAT`` (``text`` or ``json``)."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


#: The loggers whose handlers gunicorn made (they do not reach the root logger).
GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")


def configure(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """Write this process's log lines in ``log_format``: the portal's own handler on the
    root logger (added once, INFO and up, to ``stream`` or standard error), and gunicorn's
    handlers when it serves the portal. Returns the portal's handler."""
    chosen = formatter(log_format)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "portal_handler", False)), None)
    if handler is None:
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.portal_handler = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
    elif stream is not None and isinstance(handler, logging.StreamHandler):
        handler.setStream(stream)
    handler.setFormatter(chosen)
    for name in GUNICORN_LOGGERS:
        for gunicorn_handler in logging.getLogger(name).handlers:
            gunicorn_handler.setFormatter(chosen)
    return handler
