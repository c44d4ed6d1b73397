"""Writing text messages: `queue_sms` (every message goes through it), the two messages a
case sends (`send_follow_up_by_sms`, `send_return_visit_notice`), a customer's reply that
opts a number out or back in (`record_reply`), and the provider's delivery reports
(`record_delivery_status`). Sending is `portal.sms.delivery`'s.

Two rules decide whether a message may go at all, in `sms_refusal` alone: a number that
opted out gets nothing (``opted_out``), and one number gets at most
``PORTAL_SMS_PER_NUMBER_PER_DAY`` messages in 24 hours (``rate_limited``). They are asked
when a message is written (so the case page says at once that it will not go) and again
just before it is sent (a reply may have opted out meanwhile). Like every operation these
only flush; the caller commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from portal.audit import Actor, record_audit
from portal.branding import shopper_branding
from portal.cases.operations import CASES, send_follow_up
from portal.cases.queries import get_follow_up
from portal.config import Settings
from portal.errors import DomainError
from portal.models import Case, CaseState, FollowUp, SmsMessage, SmsOptOut, SmsStatus
from portal.sms.queries import follow_up_texted
from portal.sms.text import Reply, SmsKind, mobile_number, render_sms, reply_word
from portal.workflow import check_version, record_change
from surveys.privacy import mask_personal_data

#: The rate limit's window.
RATE_WINDOW = timedelta(hours=24)
#: Messages that were never handed to a provider: they do not count toward the limit.
NOT_SENT = (SmsStatus.OPTED_OUT, SmsStatus.RATE_LIMITED)
#: Where a provider's delivery report may move a message from.
REPORT_MOVES: dict[str, tuple[str, ...]] = {
    SmsStatus.DELIVERED: (SmsStatus.SENT,),
    SmsStatus.UNDELIVERED: (SmsStatus.SENT,),
    SmsStatus.FAILED: (SmsStatus.SENT,),
}
#: The path of the short follow-up link a text carries (`portal.sms.views.short_link`).
SHORT_LINK_PREFIX = "/s/"


class SmsNotPossible(DomainError):
    status = 409
    code = "sms_not_possible"


def sms_refusal(
    session: Session,
    settings: Settings,
    to_number: str,
    now: datetime,
    *,
    before_id: int | None = None,
) -> SmsStatus | None:
    """Why a message to ``to_number`` may not go now: `SmsStatus.OPTED_OUT`,
    `SmsStatus.RATE_LIMITED`, or None when it may.

    The limit counts the messages to the number written in the last 24 hours that were
    not refused themselves; with ``before_id`` (a message about to be sent) only those
    written before it, so that of several queued at once the first ones go.
    """
    opted_out = session.scalar(
        select(SmsOptOut.active).where(SmsOptOut.to_number == to_number, SmsOptOut.active)
    )
    if opted_out:
        return SmsStatus.OPTED_OUT
    limit = settings.sms_per_number_per_day
    if limit == 0:
        return None
    earlier = select(func.count(SmsMessage.id)).where(
        SmsMessage.to_number == to_number,
        SmsMessage.created_at > now - RATE_WINDOW,
        SmsMessage.status.not_in(NOT_SENT),
    )
    if before_id is not None:
        earlier = earlier.where(SmsMessage.id < before_id)
    if (session.scalar(earlier) or 0) >= limit:
        return SmsStatus.RATE_LIMITED
    return None


def queue_sms(
    session: Session,
    settings: Settings,
    *,
    to: str,
    kind: SmsKind,
    locale: str,
    case: Case | None,
    body: str,
    now: datetime,
) -> SmsMessage:
    """Write a text message to ``to``: queued for the sender, or, when `sms_refusal` says
    so, ``opted_out`` or ``rate_limited`` at once (kept, so the case shows it, never sent).

    Raises
    ------
    SmsNotPossible
        ``to`` is not a number a text message can reach.
    """
    number = mobile_number(to)
    if number is None:
        raise SmsNotPossible(_l("This phone number cannot receive text messages."))
    refusal = sms_refusal(session, settings, number, now)
    message = SmsMessage(
        to_number=number,
        body=body,
        kind=kind,
        locale=locale,
        case_id=None if case is None else case.id,
        status=refusal or SmsStatus.QUEUED,
        attempts=0,
        created_at=now,
        status_at=None if refusal is None else now,
    )
    session.add(message)
    session.flush()
    return message


def customer_number(case: Case) -> str | None:
    """The case's consented phone number as E.164, if a text message can reach it."""
    return mobile_number(case.contact_phone)


def customer_locale(settings: Settings, case: Case) -> str:
    """The customer's language: the one they answered the survey in, else the default."""
    return case.response.locale if case.response is not None else settings.default_locale


def short_follow_up_link(settings: Settings, follow_up: FollowUp) -> str:
    """The follow-up link for a text message: the link's random id alone (96 bits), which
    the short link page turns into the signed link; short enough for one segment."""
    return f"{settings.base_url}{SHORT_LINK_PREFIX}{follow_up.token_id}"


def _text_case(
    session: Session,
    settings: Settings,
    case: Case,
    kind: SmsKind,
    *,
    link: str = "",
    actor: Actor,
    now: datetime,
) -> SmsMessage:
    number = customer_number(case)
    if number is None:
        raise SmsNotPossible(_l("The customer left no mobile number a text message can reach."))
    locale = customer_locale(settings, case)
    text = render_sms(
        kind,
        locale,
        link=link,
        chain=shopper_branding(session).chain_name(locale),
        store=case.store.name,
    )
    message = queue_sms(
        session, settings, to=number, kind=kind, locale=locale, case=case, body=text.body, now=now
    )
    # A text changes what the case page offers, so it bumps the case's version: of two
    # presses on pages showing one version, the second is refused instead of texting twice.
    flag_modified(case, "state")
    record_change(
        session,
        CASES,
        case,
        actor,
        "text_message",
        now,
        text_kind=str(kind),
        text_status=message.status,
        segments=text.segments.count,
    )
    return message


def send_follow_up_by_sms(
    session: Session,
    settings: Settings,
    case: Case,
    *,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> SmsMessage:
    """Text the customer the case's follow-up link: created now (and e-mailed too when
    there is an address, by `send_follow_up`) or the one already made by hand.

    Returns the message: queued, or ``opted_out``/``rate_limited`` (not sent).

    Raises
    ------
    SmsNotPossible
        The case is not resolved, or has no mobile number; its follow-up was answered, has
        expired, or its text is already on its way.
    FollowUpNotPossible
        Another request made the follow-up link meanwhile (from `send_follow_up`).
    InvalidTransition
        The page showed another version of the case.
    """
    check_version(case, expected_version)
    if case.state != CaseState.RESOLVED:
        raise SmsNotPossible(_l("Send the follow-up question once the case is resolved."))
    follow_up = get_follow_up(session, case.id)
    if follow_up is None:
        send_follow_up(session, settings, case, actor=actor, now=now, by_text=True)
        follow_up = get_follow_up(session, case.id)
        assert follow_up is not None
    elif follow_up.answered_at is not None:
        raise SmsNotPossible(_l("The customer has already answered the follow-up question."))
    elif follow_up.expires_at <= now:
        raise SmsNotPossible(_l("The follow-up link has expired."))
    elif follow_up_texted(session, case.id):
        raise SmsNotPossible(_l("The follow-up link was already sent by text message."))
    link = short_follow_up_link(settings, follow_up)
    return _text_case(session, settings, case, SmsKind.FOLLOW_UP, link=link, actor=actor, now=now)


def send_return_visit_notice(
    session: Session,
    settings: Settings,
    case: Case,
    *,
    actor: Actor,
    now: datetime,
    expected_version: int | None = None,
) -> SmsMessage:
    """Text the customer that the store manager will call them about their feedback
    (before a return visit call).

    Returns the message: queued, or ``opted_out``/``rate_limited`` (not sent).

    Raises
    ------
    SmsNotPossible
        No mobile number, or the case is closed.
    InvalidTransition
        The page showed another version of the case.
    """
    check_version(case, expected_version)
    if case.state == CaseState.CLOSED:
        raise SmsNotPossible(_l("The case is closed: reopen it before calling the customer."))
    return _text_case(session, settings, case, SmsKind.RETURN_VISIT, actor=actor, now=now)


def record_reply(session: Session, from_number: str, body: str, *, now: datetime) -> Reply | None:
    """A customer's reply: an opt-out word (``TD``, ``退订``, ``STOP``...) stops every
    text message to the number, an opt-in word (``START``) starts them again; anything
    else is ignored (None). An audit entry names the number masked."""
    number = mobile_number(from_number)
    found = reply_word(body)
    if number is None or found is None:
        return None
    reply, word = found
    if reply == Reply.OPT_OUT:
        opt_out_number(session, number, word, now)
    else:
        session.execute(
            update(SmsOptOut)
            .where(SmsOptOut.to_number == number, SmsOptOut.active)
            .values(active=False)
            .execution_options(synchronize_session=False)
        )
    customer = Actor(label="customer")
    action = "sms.opt_out" if reply == Reply.OPT_OUT else "sms.opt_in"
    record_audit(session, customer, action, "sms_number", mask_personal_data(number), now)
    session.flush()
    return reply


def opt_out_number(session: Session, number: str, word: str, now: datetime) -> None:
    """Record that ``number`` (E.164) opted out with ``word``, or opted out again."""
    # Update first, insert if there was no row, update again if a concurrent reply
    # inserted it meanwhile: no check-then-insert race.
    renew = (
        update(SmsOptOut)
        .where(SmsOptOut.to_number == number)
        .values(active=True, word=word[:32], opted_out_at=now)
        .execution_options(synchronize_session=False)
    )
    if session.execute(renew).rowcount:  # type: ignore[attr-defined]
        return
    try:
        with session.begin_nested():
            session.add(SmsOptOut(to_number=number, word=word[:32], opted_out_at=now, active=True))
    except IntegrityError:
        session.execute(renew)


def record_delivery_status(
    session: Session,
    provider: str,
    provider_message_id: str,
    status: str,
    *,
    error_code: str | None,
    now: datetime,
) -> bool:
    """The provider's report on a message it took: ``delivered``, ``undelivered`` or
    ``failed`` (with its error code). Reports only move a sent message forward, so a late
    or repeated report changes nothing. Returns whether the message changed."""
    moves_from = REPORT_MOVES.get(status)
    if moves_from is None or not provider_message_id:
        return False
    values: dict[str, object] = {"status": status, "status_at": now}
    if error_code:
        values["error"] = f"{provider} {error_code}"[:2000]
    done = session.execute(
        update(SmsMessage)
        .where(
            SmsMessage.provider == provider,
            SmsMessage.provider_message_id == provider_message_id,
            SmsMessage.status.in_(moves_from),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]
