"""Text message forms (the case page's two buttons) and the one mapping from the codes a
message row keeps (its status, its kind, a provider's error code) to words."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.models import SmsStatus
from portal.sms.text import SmsKind
from portal.workflow_forms import VersionedForm

STATUS_LABELS: dict[str, Any] = {
    SmsStatus.QUEUED: _l("waiting to be sent"),
    SmsStatus.SENT: _l("sent, no delivery report yet"),
    SmsStatus.DELIVERED: _l("delivered"),
    SmsStatus.UNDELIVERED: _l("not delivered"),
    SmsStatus.FAILED: _l("could not be sent"),
    SmsStatus.OPTED_OUT: _l("not sent: the customer opted out of text messages"),
    SmsStatus.RATE_LIMITED: _l("not sent: too many text messages to this number today"),
}

KIND_LABELS: dict[str, Any] = {
    SmsKind.FOLLOW_UP: _l("follow-up link"),
    SmsKind.RETURN_VISIT: _l("notice of the manager's call"),
}

#: Provider error codes a manager can act on (Twilio's numbering), in words.
ERROR_LABELS: dict[int, Any] = {
    21211: _l("the number is not a valid phone number"),
    21408: _l("the provider may not send to this country"),
    21610: _l("the customer opted out at the provider"),
    21612: _l("the provider cannot reach this number"),
    21614: _l("the number is not a mobile number"),
    30003: _l("the phone was switched off or out of reach"),
    30004: _l("the customer blocks these messages"),
    30005: _l("the number is unknown or no longer in use"),
    30006: _l("a landline, or a carrier that cannot be reached"),
    30007: _l("the carrier filtered the message out"),
    30008: _l("an unknown error at the carrier"),
}
_CODE = re.compile(r"\b([23]\d{4})\b")


def error_label(error: str | None) -> Any:
    """What a stored provider error means, when its code is one of `ERROR_LABELS`."""
    match = _CODE.search(error or "")
    return None if match is None else ERROR_LABELS.get(int(match.group(1)))


class FollowUpTextForm(VersionedForm):
    """Text the customer the follow-up link (the case's version only)."""


class ReturnVisitTextForm(VersionedForm):
    """Text the customer that the manager will call (the case's version only)."""


#: The button's URL part -> its form.
TEXT_FORMS: dict[str, type[VersionedForm]] = {
    "follow-up": FollowUpTextForm,
    "return-visit": ReturnVisitTextForm,
}


def template_globals() -> dict[str, Any]:
    """What the templates need to say a message's codes in words."""
    return {
        "sms_status_labels": STATUS_LABELS,
        "sms_kind_labels": KIND_LABELS,
        "sms_error_label": error_label,
    }
