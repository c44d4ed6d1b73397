"""Twilio's webhooks: a customer's reply (``POST /sms/inbound/twilio``: an opt-out or opt-in
word) and delivery reports (``POST /sms/status/twilio``). Both are refused with 403 unless
``X-Twilio-Signature`` is Twilio's signature of the request under the auth token, and they
are the only views exempt from CSRF (Twilio has no session to carry a token; the signature
is the proof). The URL signed is the public one, ``PORTAL_BASE_URL`` plus the path, as
Twilio called it, whatever proxies sit in between.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request

from portal.access import public
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.extensions import csrf
from portal.sms import bp
from portal.sms.delivery import TWILIO_STATUS_PATH
from portal.sms.operations import record_delivery_status, record_reply
from portal.sms.providers import valid_twilio_signature

#: Where Twilio posts the replies to the sending number (set it in Twilio's console).
TWILIO_INBOUND_PATH = "/sms/inbound/twilio"
#: An empty TwiML answer: nothing is sent back to the customer.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _check_twilio_signature() -> None:
    settings = current_settings()
    if settings.sms_provider != "twilio":
        abort(404)
    query = request.query_string.decode("latin-1")
    url = settings.base_url + request.path + (f"?{query}" if query else "")
    params = [(name, value) for name, values in request.form.lists() for value in values]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not valid_twilio_signature(settings.twilio_auth_token, url, params, signature):
        abort(403)


@bp.post(TWILIO_INBOUND_PATH)
@public
@csrf.exempt
def twilio_inbound() -> Any:
    _check_twilio_signature()
    session = get_session()
    record_reply(session, request.form.get("From", ""), request.form.get("Body", ""), now=utcnow())
    session.commit()
    return Response(EMPTY_TWIML, mimetype="text/xml")


@bp.post(TWILIO_STATUS_PATH)
@public
@csrf.exempt
def twilio_status() -> Any:
    _check_twilio_signature()
    session = get_session()
    record_delivery_status(
        session,
        "twilio",
        request.form.get("MessageSid", ""),
        request.form.get("MessageStatus", ""),
        error_code=request.form.get("ErrorCode") or None,
        now=utcnow(),
    )
    session.commit()
    return "", 204
