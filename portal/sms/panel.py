"""The case page's text message panel (``templates/cases/_text_messages.html``): the case's
messages with their status, and the buttons the case offers now. The case page's view
adds it with `text_message_panel`; the buttons post to `portal.sms.views`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.cases.queries import get_follow_up
from portal.config import Settings
from portal.models import Case, CaseState, SmsMessage
from portal.sms.forms import TEXT_FORMS
from portal.sms.operations import customer_number
from portal.sms.queries import follow_up_texted, is_opted_out, list_case_messages
from portal.workflow_forms import VersionedForm


@dataclass(frozen=True, slots=True)
class TextMessagePanel:
    messages: list[SmsMessage]
    #: The customer's number as E.164, None when there is none a text can reach.
    number: str | None
    opted_out: bool
    #: Nothing leaves the machine (``PORTAL_SMS_PROVIDER=outbox``).
    outbox: bool
    #: The buttons offered now (`portal.sms.forms.TEXT_FORMS` keys), each with its form.
    forms: dict[str, VersionedForm]


def offered_texts(session: Session, case: Case, now: datetime) -> tuple[str, ...]:
    """Which messages the case may send now (the operations refuse the others anyway):
    the follow-up link once the case is resolved, while it is unanswered, unexpired and not
    already texted; the call notice until the case is closed."""
    if customer_number(case) is None:
        return ()
    offered = []
    if case.state == CaseState.RESOLVED and not follow_up_texted(session, case.id):
        follow_up = get_follow_up(session, case.id)
        if follow_up is None or (follow_up.answered_at is None and follow_up.expires_at > now):
            offered.append("follow-up")
    if case.state != CaseState.CLOSED:
        offered.append("return-visit")
    return tuple(offered)


def text_message_panel(
    session: Session, settings: Settings, case: Case, now: datetime
) -> TextMessagePanel:
    """The panel of ``case`` as it is now; its forms carry the case's version."""
    number = customer_number(case)
    forms = {
        name: TEXT_FORMS[name](prefix=f"text-{name}", version=case.version, formdata=None)
        for name in offered_texts(session, case, now)
    }
    return TextMessagePanel(
        messages=list_case_messages(session, case.id),
        number=number,
        opted_out=number is not None and is_opted_out(session, number),
        outbox=settings.sms_provider == "outbox",
        forms=forms,
    )
