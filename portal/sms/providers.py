"""Who carries a text message: the sender that `PORTAL_SMS_PROVIDER` names, and what it
can answer. ``outbox`` is no sender at all (`sender_for` returns None: messages stay
queued on the text message page); ``twilio`` posts to Twilio's documented REST API with
the standard library, and checks the signature Twilio puts on its webhooks.

A sender answers `Accepted` or raises one of three errors, which decide what happens to
the message: `Refused` (the provider will never take it: failed), `RecipientOptedOut`
(the customer told the provider to stop: opted out) or `TryLater` (network, 429, 5xx,
refused credentials: retried with backoff).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import urlencode

from portal.config import Settings
from portal.db import utcnow

#: Seconds before a call to the provider is given up (and retried later).
TIMEOUT_SECONDS = 10
#: Twilio's error for a number that replied STOP to the sending number.
TWILIO_UNSUBSCRIBED = 21610


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    to: str
    body: str
    #: Where the provider reports delivery (None: no reports).
    status_callback: str | None


@dataclass(frozen=True, slots=True)
class Accepted:
    """The provider took the message: its id there and its first status."""

    provider_message_id: str
    status: str


class SenderError(Exception):
    """A message the provider did not take; ``str()`` is what the message row keeps."""

    def __init__(self, detail: str, code: int | None = None) -> None:
        super().__init__(detail)
        self.code = code


class Refused(SenderError):
    """The provider will never take this message (an invalid number, a landline...)."""


class RecipientOptedOut(Refused):
    """The customer opted out at the provider (replied STOP to the sending number)."""


class TryLater(SenderError):
    """Not taken now, perhaps later: network, rate limit, the provider's own trouble."""

    def __init__(self, detail: str, code: int | None = None, retry_after: int = 0) -> None:
        super().__init__(detail, code)
        #: Seconds the provider asked us to wait (``Retry-After``), 0 when it did not say.
        self.retry_after = retry_after


class SmsSender(Protocol):
    #: The provider's name, kept on each message it sent.
    name: str

    def send(self, message: OutgoingSms) -> Accepted:
        """Hand ``message`` to the provider.

        Raises
        ------
        Refused, RecipientOptedOut, TryLater
        """
        ...


def sender_for(settings: Settings) -> SmsSender | None:
    """The configured sender; None for the outbox, which sends nothing."""
    if settings.sms_provider == "twilio":
        return TwilioSender(settings)
    return None


class TwilioSender:
    """Twilio's Programmable Messaging REST API: ``POST /2010-04-01/Accounts/{sid}/
    Messages.json``, form-encoded, HTTP basic auth with the account sid and auth token."""

    name = "twilio"

    def __init__(self, settings: Settings) -> None:
        self.url = (
            f"{settings.twilio_api_base}/2010-04-01/Accounts/"
            f"{settings.twilio_account_sid}/Messages.json"
        )
        pair = f"{settings.twilio_account_sid}:{settings.twilio_auth_token}".encode()
        self.authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        self.sender = settings.twilio_from

    def send(self, message: OutgoingSms) -> Accepted:
        fields = {"To": message.to, "Body": message.body}
        # A messaging service sid picks the number itself (and its country's sender rules).
        fields["MessagingServiceSid" if self.sender.startswith("MG") else "From"] = self.sender
        if message.status_callback:
            fields["StatusCallback"] = message.status_callback
        request = urllib.request.Request(
            self.url,
            data=urlencode(fields).encode(),
            method="POST",
            headers={
                "Authorization": self.authorization,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:
                answer = _json(reply.read())
        except urllib.error.HTTPError as error:
            raise _twilio_error(error) from None
        # URLError, a refused connection, a timeout, a cut answer: it may be taken next time.
        except (OSError, http.client.HTTPException) as error:
            raise TryLater(f"twilio unreachable: {error}") from None
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            # Taken (2xx) but unreadable: sending again could send it twice.
            raise Refused("twilio accepted the message but its answer had no sid")
        return Accepted(sid, str(answer.get("status") or "queued"))


def _json(raw: bytes) -> dict[str, object]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _twilio_error(error: urllib.error.HTTPError) -> SenderError:
    """A 400 is about the message itself (Twilio's ``code``, e.g. 21211 invalid number,
    21610 unsubscribed): final. Anything else (401/403/404 credentials or account, 429,
    5xx) may pass once the provider or the settings are right: retried."""
    try:
        body = _json(error.read())
    except OSError:
        body = {}
    code = body.get("code")
    number = code if isinstance(code, int) else None
    detail = f"twilio {error.code}" + (f" {number}" if number else "")
    if body.get("message"):
        detail += f": {body['message']}"
    if error.code == 400 and number == TWILIO_UNSUBSCRIBED:
        return RecipientOptedOut(detail, number)
    if error.code == 400:
        return Refused(detail, number)
    return TryLater(detail, number, _retry_after(error.headers.get("Retry-After")))


def _retry_after(value: str | None) -> int:
    """``Retry-After`` in seconds (a number of seconds or an HTTP date); 0 if absent."""
    if not value:
        return 0
    if value.strip().isdigit():
        return min(int(value.strip()), 24 * 3600)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0, min(int((moment - utcnow()).total_seconds()), 24 * 3600))


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's ``X-Twilio-Signature`` of a webhook request: the full URL it called, then
    each POST parameter's name and value appended, sorted by name (then value), signed with
    HMAC-SHA1 under the auth token, in base64."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def valid_twilio_signature(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str
) -> bool:
    """Whether ``signature`` is Twilio's for this request (compared in constant time)."""
    if not auth_token or not signature:
        return False
    expected = twilio_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), signature.encode())
