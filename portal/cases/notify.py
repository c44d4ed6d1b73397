"""E-mail about cases: to the assignee when a case is new, reassigned or overdue, and to a
customer with their follow-up link. Messages go to the outbox table in the same
transaction; `deliver_outbox` sends them over SMTP when it is configured (``send-mail`` and
``overdue`` for cron). Without SMTP nothing leaves the machine: the outbox page shows them.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.config import Settings
from portal.formatting import localtime, problem_label
from portal.models import Case, CaseEvent, CaseState, OutboxMessage, User

SYSTEM = Actor(label="system")


def queue_mail(
    session: Session, *, to: str, subject: str, body: str, now: datetime, case: Case | None
) -> OutboxMessage:
    message = OutboxMessage(
        to=to,
        subject=subject,
        body=body,
        created_at=now,
        case_id=None if case is None else case.id,
    )
    session.add(message)
    return message


def notify_assignee(
    session: Session, settings: Settings, case: Case, *, kind: str, now: datetime
) -> OutboxMessage | None:
    """Tell the case's assignee about it (``kind``: new or overdue); nobody assigned, no mail."""
    if case.assignee_id is None:
        return None
    assignee = case.assignee
    if assignee is None:
        assignee = session.get(User, case.assignee_id)
    if assignee is None:
        return None
    store = case.store
    due = localtime(case.first_response_due_at, store.timezone)
    link = f"{settings.base_url}/cases/{case.id}"
    if kind == "overdue":
        subject = f"[逾期 Overdue] 个案 Case #{case.id} · {store.code} {store.name}"
        lead = f"首次回应已逾期（截止 {due}）。 The first response is overdue (due {due})."
    else:
        subject = f"[新个案 New case] #{case.id} · {store.code} {store.name}"
        lead = f"请在 {due} 前联系顾客。 Please contact the customer by {due}."
    if case.category:
        what = f"{problem_label(case.category, 'zh_CN')} / {problem_label(case.category, 'en')}"
    else:
        what = case.reasons
    body = "\n".join([lead, "", what, case.summary or "", "", link])
    return queue_mail(session, to=assignee.email, subject=subject, body=body, now=now, case=case)


def notify_overdue(session: Session, settings: Settings, *, now: datetime) -> list[Case]:
    """Notify the assignees of open cases past their deadline, once per case."""
    overdue = session.scalars(
        select(Case)
        .where(
            Case.state == CaseState.OPEN,
            Case.first_response_due_at < now,
            Case.overdue_notified_at.is_(None),
        )
        .order_by(Case.first_response_due_at)
    ).all()
    for case in overdue:
        case.overdue_notified_at = now
        case.events.append(
            CaseEvent(at=now, actor=SYSTEM.label, kind="overdue_notified", details={})
        )
        notify_assignee(session, settings, case, kind="overdue", now=now)
    session.flush()
    return list(overdue)


Sender = Callable[[Settings, EmailMessage], None]


def smtp_send(settings: Settings, message: EmailMessage) -> None:
    """Send one message with the server in PORTAL_SMTP_URL."""
    assert settings.smtp_url is not None
    url = urlsplit(settings.smtp_url)
    secure = url.scheme == "smtps"
    port = url.port or (465 if secure else 587)
    smtp_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with smtp_class(url.hostname or "localhost", port, timeout=30) as server:
        if not secure and port != 25:
            server.starttls()
        if url.username:
            server.login(url.username, url.password or "")
        server.send_message(message)


def deliver_outbox(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    send: Sender = smtp_send,
    limit: int = 200,
) -> tuple[int, int]:
    """Send unsent messages; returns (sent, failed). A failure is recorded and retried."""
    if settings.smtp_url is None:
        return 0, 0
    pending = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for item in pending:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            settings.mail_from,
            item.to,
            item.subject,
        )
        message.set_content(item.body)
        try:
            send(settings, message)
        except (OSError, smtplib.SMTPException) as error:
            item.error = f"{type(error).__name__}: {error}"[:2000]
            failed += 1
        else:
            item.sent_at, item.error = now, None
            sent += 1
    session.flush()
    return sent, failed
