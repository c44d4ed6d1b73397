"""Text message pages: the case page's two buttons (the follow-up link, the notice of a
call), the text message list (what the outbox holds in development), and the short
follow-up link a text carries."""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session

from portal import throttle
from portal.access import public, requires
from portal.audit import Actor
from portal.cases.operations import FOLLOW_UP_PURPOSE, FollowUpNotPossible
from portal.cases.queries import get_case, get_follow_up_by_token
from portal.cases.views import ExpiredFollowUpLink, InvalidFollowUpLink, case_page
from portal.config import current_settings
from portal.db import get_session, utcnow
from portal.errors import keep_typed_values
from portal.models import Case, Role, SmsMessage, SmsStatus
from portal.pagination import requested_page
from portal.sms import bp
from portal.sms.delivery import deliver_sms
from portal.sms.forms import TEXT_FORMS
from portal.sms.operations import (
    SmsNotPossible,
    send_follow_up_by_sms,
    send_return_visit_notice,
)
from portal.sms.providers import sender_for
from portal.sms.queries import list_text_messages
from portal.workflow import STALE_MESSAGE, InvalidTransition
from surveys.tokens import sign_receipt_token

TEXT_ROLES = (Role.MANAGER, Role.ADMIN)

#: The button's URL part -> the operation it calls.
SENDS = {"follow-up": send_follow_up_by_sms, "return-visit": send_return_visit_notice}


#: What the manager is told after a press, by the message's status then.
OUTCOMES: dict[str, tuple[Any, str]] = {
    SmsStatus.QUEUED: (
        _l("The provider could not take the text message now; it will be tried again."),
        "ok",
    ),
    SmsStatus.SENT: (_l("The text message was sent."), "success"),
    SmsStatus.OPTED_OUT: (
        _l("The text message was not sent: this number opted out of text messages."),
        "error",
    ),
    SmsStatus.RATE_LIMITED: (
        _l("The text message was not sent: this number has had its most texts for today."),
        "error",
    ),
    SmsStatus.FAILED: (
        _l("The provider refused the text message; the reason is shown with it."),
        "error",
    ),
}
WRITTEN_ONLY = _l("The text message is written; with no provider set up it stays in the list.")


def _flash_outcome(message: SmsMessage, outbox: bool) -> None:
    if outbox and message.status == SmsStatus.QUEUED:
        text, category = WRITTEN_ONLY, "ok"
    else:
        text, category = OUTCOMES.get(message.status, OUTCOMES[SmsStatus.SENT])
    flash(str(text), category)


def _send_at_once(session: Session, message: SmsMessage) -> None:
    """One try right after the message was committed, its outcome committed; a failure for
    now is left to ``send-sms``."""
    settings = current_settings()
    if message.status == SmsStatus.QUEUED:
        deliver_sms(session, settings, message.id, now=utcnow(), sender=sender_for(settings))
        session.commit()


def _refused(session: Session, case_id: int, problem: Any, status: int) -> Any:
    return case_page(session, _load_case(session, case_id), problem=problem, status=status)


def _load_case(session: Session, case_id: int) -> Case:
    return get_case(session, case_id, visible_to=current_user)


@bp.post("/cases/<int:case_id>/text/<any('follow-up', 'return-visit'):kind>")
@requires(*TEXT_ROLES)
def send(case_id: int, kind: str) -> Any:
    session = get_session()
    case = _load_case(session, case_id)
    form = TEXT_FORMS[kind](prefix=f"text-{kind}")
    if not form.validate_on_submit():
        return _refused(session, case_id, STALE_MESSAGE, 400)
    keep_typed_values(lambda problem: _refused(session, case_id, problem, 503))
    settings, actor = current_settings(), Actor.of_user(current_user)
    try:
        message = SENDS[kind](
            session,
            settings,
            case,
            actor=actor,
            now=utcnow(),
            expected_version=form.expected_version,
        )
        session.commit()
    except (SmsNotPossible, FollowUpNotPossible, InvalidTransition) as error:
        session.rollback()
        return _refused(session, case_id, error.message, error.status)
    _send_at_once(session, message)
    _flash_outcome(message, outbox=settings.sms_provider == "outbox")
    return redirect(url_for("cases.detail", case_id=case_id))


@bp.get("/text-messages")
@requires(*TEXT_ROLES)
def messages() -> Any:
    page = list_text_messages(get_session(), current_user, page=requested_page())
    provider = current_settings().sms_provider
    return render_template("sms/messages.html", page=page, provider=provider)


_TOKEN_ID = re.compile(r"[A-Za-z0-9_-]{8,32}")


@bp.get("/s/<token_id>")
@public
def short_link(token_id: str) -> Any:
    # The id is 96 random bits (what the signed link carries too); unknown ids are counted
    # like forged survey links, so guessing is throttled.
    throttle.refuse_if_exhausted(throttle.SURVEY_TOKEN, throttle.client_address())
    follow_up = None
    if _TOKEN_ID.fullmatch(token_id):
        follow_up = get_follow_up_by_token(get_session(), token_id)
    if follow_up is None:
        throttle.count_failure(throttle.SURVEY_TOKEN, throttle.client_address())
        raise InvalidFollowUpLink()
    if follow_up.expires_at <= utcnow():
        raise ExpiredFollowUpLink()
    token = sign_receipt_token(
        current_settings().secret_key,
        follow_up.token_id,
        follow_up.expires_at,
        purpose=FOLLOW_UP_PURPOSE,
    )
    return redirect(url_for("cases.follow_up", token=token))
