"""Text messages in the seeded world: on the first case of each state of the demo
manager's stores (the cases the walk opens), a notice of a call texted through the real
operation (so the timeline has its event) and a message in each other status, with the
provider errors a manager meets, so the case panel and the text message list show every
status and error in words."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.config import Settings
from portal.models import Case, CaseState, SmsMessage, SmsStatus, User
from portal.sms.operations import customer_number, send_return_visit_notice
from portal.sms.text import SmsKind

#: status -> the provider error kept with it (None: none).
STATUSES: dict[str, str | None] = {
    SmsStatus.QUEUED: None,
    SmsStatus.SENT: None,
    SmsStatus.DELIVERED: None,
    SmsStatus.UNDELIVERED: "twilio 30003",
    SmsStatus.FAILED: "twilio 400 21211: The 'To' number is not a valid phone number.",
    SmsStatus.OPTED_OUT: None,
    SmsStatus.RATE_LIMITED: None,
}


def add_text_messages(
    session: Session, settings: Settings, manager: User, *, now: datetime
) -> None:
    store_ids = [store.id for store in manager.stores]
    firsts: dict[str, Case] = {}
    for case in session.scalars(select(Case).where(Case.store_id.in_(store_ids)).order_by(Case.id)):
        firsts.setdefault(case.state, case)
    actor = Actor.of_user(manager)
    for case in firsts.values():
        if case.contact_phone is None or customer_number(case) is None:
            case.contact_phone = "13800138000"
        if case.state != CaseState.CLOSED:
            send_return_visit_notice(session, settings, case, actor=actor, now=now)
        for n, (status, error) in enumerate(STATUSES.items()):
            session.add(
                SmsMessage(
                    to_number=customer_number(case) or "+8613800138000",
                    body="【好又多超市】门店店长将致电回访您的反馈，请留意来电。回TD退订",
                    kind=SmsKind.FOLLOW_UP if n % 2 else SmsKind.RETURN_VISIT,
                    locale="zh_CN" if n % 3 else "en",
                    case_id=case.id,
                    status=status,
                    provider=None if status == SmsStatus.QUEUED else "twilio",
                    attempts=2 if error else 1,
                    error=error,
                    created_at=now - timedelta(hours=n),
                    status_at=now - timedelta(hours=n),
                )
            )
    session.flush()
