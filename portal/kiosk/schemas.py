"""Reading a tablet's queue as it is sent (``POST /kiosk/api/answers``): a JSON object
``{"answers": [...]}`` of at most `MAX_BATCH` answers, each read on its own.

An answer that cannot be read becomes an `UnreadableAnswer` (refused alone, with its id
when it has a readable one), so that one damaged entry never holds up the rest of the
queue. Only a body that is not such an object at all is refused as a whole.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.config import LOCALES
from portal.errors import DomainError
from surveys.answers import RawValue

#: Answers in one request; the tablet sends its queue in smaller batches than this.
MAX_BATCH = 50
#: Fields of one answer, and the length of one value: generous for any survey.
MAX_VALUES = 200
MAX_VALUE_LENGTH = 5000
MAX_KEY_LENGTH = 80
#: A typed receipt code, with any spaces and hyphens.
MAX_CODE_LENGTH = 40

_FIELDS = frozenset({"id", "answered_at", "locale", "version", "receipt_code", "values"})


class MalformedBatch(DomainError):
    status = 400
    code = "malformed_batch"
    message = _l("The tablet sent something that is not a list of answers.")


@dataclass(frozen=True, slots=True)
class QueuedAnswer:
    """One answer taken on a tablet, as it was queued there."""

    #: Made on the tablet (``crypto.randomUUID()``): the same answer sent again is
    #: recognised by it. Canonical lower-case form.
    client_id: str
    #: When the shopper pressed Send, by the tablet's clock.
    answered_at: datetime
    locale: str
    #: The survey version the page showed (`SurveyVersion.id`).
    version_id: int
    #: The receipt's short code as typed, "" when none.
    receipt_code: str
    #: The form's values by field name, as `surveys.answers.validate_answers` reads them.
    values: Mapping[str, RawValue]


@dataclass(frozen=True, slots=True)
class UnreadableAnswer:
    """An entry of the queue that is not an answer as the tablet writes them."""

    client_id: str | None


def parse_batch(body: bytes) -> list[QueuedAnswer | UnreadableAnswer]:
    """The answers of a sync request, in the order sent.

    Raises
    ------
    MalformedBatch
        Not JSON, not ``{"answers": [...]}``, or more than `MAX_BATCH` answers.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedBatch() from None
    items = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) > MAX_BATCH:
        raise MalformedBatch()
    return [_answer(item) for item in items]


def client_id_of(value: Any) -> str | None:
    """``value`` as a canonical UUID string, or None when it is none."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return str(parsed) if str(parsed) == value.lower() else None


def _answer(item: Any) -> QueuedAnswer | UnreadableAnswer:
    if not isinstance(item, dict):
        return UnreadableAnswer(None)
    client_id = client_id_of(item.get("id"))
    answered_at = _moment(item.get("answered_at"))
    version, locale, code = item.get("version"), item.get("locale"), item.get("receipt_code", "")
    values = _values(item.get("values"))
    if (
        client_id is None
        or answered_at is None
        or set(item) - _FIELDS
        or isinstance(version, bool)
        or not isinstance(version, int)
        or locale not in LOCALES
        or not isinstance(code, str)
        or len(code) > MAX_CODE_LENGTH
        or values is None
    ):
        return UnreadableAnswer(client_id)
    return QueuedAnswer(client_id, answered_at, str(locale), version, code.strip(), values)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A time without its offset could be any time zone's: not what the tablet writes.
    return moment if moment.tzinfo is not None else None


def _values(value: Any) -> dict[str, RawValue] | None:
    if not isinstance(value, dict) or len(value) > MAX_VALUES:
        return None
    values: dict[str, RawValue] = {}
    for key, raw in value.items():
        if len(key) > MAX_KEY_LENGTH:
            return None
        if raw is None or (isinstance(raw, str) and len(raw) <= MAX_VALUE_LENGTH):
            values[key] = raw
        elif isinstance(raw, list) and len(raw) <= MAX_VALUES and _short_strings(raw):
            values[key] = tuple(raw)
        else:
            return None
    return values


def _short_strings(items: list[Any]) -> bool:
    return all(isinstance(item, str) and len(item) <= MAX_VALUE_LENGTH for item in items)
