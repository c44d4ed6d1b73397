"""POS API views: parse, call one operation, commit, answer JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import jsonify, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal import throttle
from portal.access import public
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import DomainError
from portal.models import ApiKey
from portal.pos_api import bp
from portal.pos_api.operations import BadApiKey, authenticate_api_key, record_key_use
from portal.pos_api.schemas import parse_receipt_request
from portal.receipts import issue_receipt, survey_links


class BodyTooLarge(DomainError):
    status = 413
    code = "body_too_large"


class NotJson(DomainError):
    status = 415
    code = "unsupported_media_type"
    message = "Send the body as application/json."


def _read_body(limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(f"The body must be at most {limit} bytes.")
    # Chunked bodies have no length: read one byte past the limit to notice them too.
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge(f"The body must be at most {limit} bytes.")
    return body


def _stamp_key_use(session: Session, api_key: ApiKey, address: str, now: datetime) -> None:
    # The key's use is a fact of its own, committed at once (at most once a minute per
    # key): a receipt refused below for its body still shows the till is sending, and on
    # PostgreSQL the key's row lock is let go before the receipt is written.
    if record_key_use(session, api_key, address=address, now=now):
        try:
            session.commit()
        except OperationalError:
            session.rollback()  # the stamp is lost, the receipt is not


@bp.post("/receipts")
@public
def create_receipt() -> Any:
    settings = current_settings()
    session, address = get_session(), throttle.client_address()
    throttle.refuse_if_exhausted(throttle.BEARER, address)
    try:
        api_key = authenticate_api_key(session, request.headers.get("Authorization"))
    except BadApiKey:
        session.rollback()  # the write lock is let go before counting
        throttle.count_failure(throttle.BEARER, address)
        raise
    now = utcnow()
    _stamp_key_use(session, api_key, address, now)
    store = api_key.store
    if request.mimetype != "application/json":
        raise NotJson()
    payload = parse_receipt_request(
        _read_body(settings.api_max_body_bytes),
        store_timezone=store.timezone,
        now=now,
        token_days=settings.token_days,
    )
    issued = issue_receipt(
        session,
        settings,
        store=store,
        staff_code=payload.staff_code,
        transaction_id=payload.transaction_id,
        issued_at=payload.issued_at,
        total_cents=payload.total_cents,
        now=now,
        survey_key=payload.survey_key,
    )
    session.commit()
    links = survey_links(settings, issued.token)
    body = {
        "token": issued.token,
        "short_code": issued.receipt.short_code,
        "survey_url": links.survey_url,
        "qr_svg_url": links.qr_svg_url,
        "qr_png_url": links.qr_png_url,
        "expires_at": issued.receipt.expires_at.isoformat(),
    }
    return jsonify(body), 201 if issued.created else 200
