"""Shopper reads: the receipt's survey page (its version, store and the chain's branding),
whether a browser is the one that answered a receipt, and when the store will call."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from portal.branding import ShopperBranding, shopper_branding
from portal.models import AuditEntry, Case, Receipt, Response
from portal.receipts import UnknownReceipt
from portal.shopper.operations import SUBMITTED
from portal.versions import definition_of
from surveys.definitions import SurveyDefinition


@dataclass(frozen=True, slots=True)
class SurveyPage:
    """What the survey and thank-you pages of one receipt show besides the form."""

    definition: SurveyDefinition
    store_name: str
    store_format: str
    store_timezone: str
    branding: ShopperBranding
    answered: bool


def get_survey_page(session: Session, token_id: str) -> SurveyPage:
    """The survey version a receipt asks (decided when it was issued), its store and the
    chain's branding: two primary-key or unique-index reads.

    Raises
    ------
    UnknownReceipt
        No receipt has this token id (e.g. a restored older backup).
    """
    receipt = session.scalar(
        select(Receipt)
        .options(joinedload(Receipt.store), joinedload(Receipt.survey_version))
        .where(Receipt.token_id == token_id)
    )
    if receipt is None:
        raise UnknownReceipt()
    return SurveyPage(
        definition=definition_of(receipt.survey_version),
        store_name=receipt.store.name,
        store_format=receipt.store.format,
        store_timezone=receipt.store.timezone,
        branding=shopper_branding(session),
        answered=receipt.answered_at is not None,
    )


def get_follow_up_due(session: Session, response_id: int) -> datetime | None:
    """When the store is due to contact the shopper who sent this response: the deadline of
    the case it opened, if the shopper left contact details (the case holds a copy only
    then); ``None`` otherwise."""
    return session.scalar(
        select(Case.first_response_due_at).where(
            Case.response_id == response_id,
            or_(Case.contact_phone.is_not(None), Case.contact_email.is_not(None)),
        )
    )


def was_submitted_by(session: Session, response: Response, submitter: str) -> bool:
    """True when ``submitter`` (the browser fingerprint given to ``record_response``) is the
    one that sent ``response``."""
    # The entry is written with the response's own time: the indexed ``at`` finds it.
    recorded = session.scalars(
        select(AuditEntry.details).where(
            AuditEntry.at == response.submitted_at,
            AuditEntry.action == SUBMITTED,
            AuditEntry.subject_type == "response",
            AuditEntry.subject_id == str(response.id),
        )
    ).all()
    return any(hmac.compare_digest(str(d.get("browser", "")), submitter) for d in recorded)
