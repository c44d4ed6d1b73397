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
  ``scripts/demo`` runs gunicorn with ``--logger-class portal.logs.GunicornLogger``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

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

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }
