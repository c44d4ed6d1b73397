"""E-mail about cases: to the assignee when a case is new, reassigned or overdue, and to a
customer with their follow-up link. Messages go to the outbox table in the same
transaction; `deliver_message` sends one over SMTP when it is configured (``send-mail`` and
``overdue`` for cron commit after each message, so one bad message never blocks or re-sends
the others). Without SMTP nothing leaves the machine: the outbox page shows them. Each
mail is written in its reader's language (`portal.i18n.mail_languages` for staff). Header
values (to, subject, from) never carry a line break, so no text can add a header.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.cases.forms import case_reasons
from portal.cases.queries import overdue_condition
from portal.config import Settings
from portal.formatting import localtime, problem_label
from portal.i18n import MailText, in_languages, mail_translations
from portal.models import Case, CaseEvent, OutboxMessage, User
from surveys.privacy import mask_personal_data

SYSTEM = Actor(label="system")


def header_value(value: str) -> str:
    """``value`` on one line: every line break (CR, LF and the Unicode ones) and the blanks
    around it become one space, so that a subject or address cannot end its header and start
    another (``"Hi\r\nBcc: x@evil"``)."""
    return " ".join(part.strip() for part in value.splitlines() if part.strip())


def queue_mail(
    session: Session, *, to: str, subject: str, body: str, now: datetime, case: Case | None = None
) -> OutboxMessage:
    """Add a message to the outbox, its header values put on one line."""
    message = OutboxMessage(
        to=header_value(to),
        subject=header_value(subject),
        body=body,
        created_at=now,
        case_id=None if case is None else case.id,
    )
    session.add(message)
    return message


def notify_assignee(
    session: Session, settings: Settings, case: Case, *, kind: str, now: datetime
) -> OutboxMessage | None:
    """Tell the case's assignee about it (``kind``: new or overdue), in their language;
    nobody assigned, no mail."""
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

    def write(locale: str) -> MailText:
        # Written in the assignee's language (both when they chose none).
        _ = mail_translations(locale).gettext
        names = {"id": case.id, "store": f"{store.code} {store.name}", "due": due}
        if kind == "overdue":
            subject = _("[Overdue] Case #%(id)s · %(store)s") % names
            lead = _("The first response is overdue (due %(due)s).") % names
        else:
            subject = _("[New case] #%(id)s · %(store)s") % names
            lead = _("Please contact the customer by %(due)s.") % names
        if case.category:
            what = problem_label(case.category, locale)
        else:
            with force_locale(locale):
                what = ", ".join(case_reasons(case.reasons))
        return MailText(subject, "\n".join([lead, "", what, mask_personal_data(case.summary)]))

    text = in_languages(assignee, write)
    body = f"{text.body}\n\n{link}"
    return queue_mail(
        session, to=assignee.email, subject=text.subject, body=body, now=now, case=case
    )


def notify_overdue(session: Session, settings: Settings, *, now: datetime) -> list[Case]:
    """Notify the assignees of open cases past their deadline, once per case."""
    overdue = session.scalars(
        select(Case)
        .where(overdue_condition(now), Case.overdue_notified_at.is_(None))
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


def build_message(settings: Settings, item: OutboxMessage) -> EmailMessage:
    """The e-mail for an outbox row; header values are put on one line again here, for rows
    written before queue_mail did it."""
    message = EmailMessage()
    message["From"] = header_value(settings.mail_from)
    message["To"] = header_value(item.to)
    message["Subject"] = header_value(item.subject)
    message.set_content(item.body)
    return message


def list_unsent_mail(session: Session, *, limit: int = 200) -> list[int]:
    """Ids of the oldest unsent messages."""
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.sent_at.is_(None))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


def deliver_message(
    session: Session, settings: Settings, message_id: int, *, now: datetime, send: Sender
) -> bool | None:
    """Build and send one outbox message and record the result on its row: ``sent_at`` and
    no error, or the error (the message stays unsent and is retried by the next run).

    Returns True when sent, False when it failed, None when it was sent meanwhile (by
    another run) or is gone. The caller commits after each message, so a message that was
    sent is never sent again because a later one failed.
    """
    item = session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
        # PostgreSQL: two runs at once never take the same message (SQLite has one writer).
        .with_for_update(skip_locked=True)
    )
    if item is None:
        return None
    try:
        send(settings, build_message(settings, item))
    # Whatever goes wrong with one message (a malformed address, a refused recipient, a
    # broken connection) is that message's result, never the end of the run.
    except Exception as error:
        item.error = f"{type(error).__name__}: {error}"[:2000]
        session.flush()
        return False
    item.sent_at, item.error = now, None
    session.flush()
    return True
