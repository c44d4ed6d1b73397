"""Strict parsing of POS request bodies into dataclasses, with errors that name the field.

Nothing is coerced silently: a number sent as a string, a boolean sent as a number, a date
that does not exist, NaN or a total of a billion are refused with a message a till
integrator can act on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.calendar import zone
from portal.errors import DomainError
from surveys.strict import NotANumber, parse_decimal

#: The largest receipt total accepted, in currency units; larger is a typo or an attack.
MAX_TOTAL = Decimal("10000000")
#: Tills' clocks drift; a purchase a few minutes "in the future" is still accepted.
CLOCK_SKEW = timedelta(minutes=10)

_FIELDS = frozenset({"transaction_id", "staff_code", "issued_at", "total", "survey"})


class MalformedBody(DomainError):
    status = 400
    code = "malformed_json"


class InvalidField(DomainError):
    status = 422
    code = "invalid_field"


@dataclass(frozen=True, slots=True)
class ReceiptRequest:
    transaction_id: str
    staff_code: str
    issued_at: datetime | None
    total_cents: int | None
    #: The survey the till names (its key), None to let the targeting rules decide.
    survey_key: str | None = None


def parse_receipt_request(
    body: bytes, *, store_timezone: str, now: datetime, token_days: int
) -> ReceiptRequest:
    """Parse ``POST /api/v1/receipts``; naive ``issued_at`` is read in the store's zone."""
    data = _decode(body)
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise InvalidField(f"Unknown field {unknown[0]!r}.", field=unknown[0])
    return ReceiptRequest(
        transaction_id=_code(data, "transaction_id", 64),
        staff_code=_code(data, "staff_code", 32),
        issued_at=_issued_at(data.get("issued_at"), store_timezone, now, token_days),
        total_cents=_total_cents(data.get("total")),
        survey_key=None if data.get("survey") is None else _code(data, "survey", 64),
    )


@dataclass(frozen=True, slots=True)
class _UnreadableNumber:
    """A JSON number written with an exponent: refused by the field that receives it."""

    text: str


def _strict_decimal(text: str) -> Decimal | _UnreadableNumber:
    # JSON's grammar allows exponents (1e3, 1e400); a till's amounts never need them.
    try:
        return parse_decimal(text, negative=True)
    except NotANumber:
        return _UnreadableNumber(text)


def _decode(body: bytes) -> dict[str, Any]:
    def reject_constant(name: str) -> None:
        raise MalformedBody(f"{name} is not a number JSON allows.")

    try:
        data = json.loads(body, parse_float=_strict_decimal, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        raise MalformedBody("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise MalformedBody("The body must be a JSON object.")
    return data


def _code(data: dict[str, Any], field: str, max_length: int) -> str:
    value = data.get(field)
    if value is None:
        raise InvalidField(f"{field} is required.", field=field)
    if not isinstance(value, str):
        raise InvalidField(f"{field} must be a string.", field=field)
    if not 1 <= len(value) <= max_length:
        raise InvalidField(f"{field} must be 1 to {max_length} characters.", field=field)
    if not value.isprintable() or value != value.strip():
        raise InvalidField(
            f"{field} must not contain control characters or surrounding spaces.", field=field
        )
    return value


def _issued_at(value: Any, store_timezone: str, now: datetime, token_days: int) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidField("issued_at must be an ISO-8601 date and time string.", field="issued_at")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidField(
            "issued_at is not a valid ISO-8601 date and time.", field="issued_at"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(store_timezone))
    if moment > now + CLOCK_SKEW:
        raise InvalidField("issued_at is in the future.", field="issued_at")
    if moment < now - timedelta(days=token_days):
        raise InvalidField(
            f"issued_at is more than {token_days} days ago; the survey would already be closed.",
            field="issued_at",
        )
    return moment


def _total_cents(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, _UnreadableNumber):
        raise InvalidField(
            "total must be written with digits and at most one decimal point, no exponent.",
            field="total",
        )
    # bool is an int in Python; a till sending true means a bug, not a total of 1.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidField("total must be a number.", field="total")
    try:
        amount = Decimal(value)
        if not amount.is_finite() or abs(amount) > MAX_TOTAL:
            raise InvalidField(f"total must be at most {MAX_TOTAL} in size.", field="total")
        cents = amount * 100
        if cents != cents.to_integral_value():
            raise InvalidField("total has more than two decimal places.", field="total")
    except InvalidOperation:
        raise InvalidField("total must be a number.", field="total") from None
    return int(cents)
