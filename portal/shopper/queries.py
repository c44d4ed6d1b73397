"""Shopper reads: the receipt's survey page (its version, store and the chain's branding),
whether a browser is the one that answered a receipt, and when the store will call."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from portal.branding import BRANDING_ID, NO_BRANDING, ShopperBranding
from portal.models import AuditEntry, Branding, Case, Receipt, Response, Store, SurveyVersion
from portal.receipts import UnknownReceipt
from portal.shopper.operations import SUBMITTED
from portal.versions import definition_of
from surveys.definitions import SurveyDefinition


@dataclass(frozen=True, slots=True)
class SurveyPage:
    """What the survey and thank-you pages of one receipt show besides the form."""

    definition: SurveyDefinition
    #: The survey the version belongs to (what its answers are counted under).
    survey_id: int
    store_name: str
    store_format: str
    store_timezone: str
    branding: ShopperBranding
    answered: bool


def _survey_page_statement() -> Any:
    receipts, stores, versions = (m.__table__.c for m in (Receipt, Store, SurveyVersion))
    brand = Branding.__table__.c
    return (
        select(
            receipts.answered_at,
            versions.id,
            versions.content_hash,
            versions.survey_id,
            stores.name,
            stores.format,
            stores.timezone,
            brand.id,
            brand.chain_name_zh,
            brand.chain_name_en,
            brand.logo_sha256,
            brand.primary_colour,
        )
        .join_from(Receipt.__table__, Store.__table__, stores.id == receipts.store_id)
        .join(SurveyVersion.__table__, versions.id == receipts.survey_version_id)
        .outerjoin(Branding.__table__, brand.id == BRANDING_ID)
        .where(receipts.token_id == bindparam("token_id"))
    )


#: Built once, from the tables: every survey page and submit runs it, and a statement
#: built per call costs more (a cache key of a dozen columns and three joins) than the
#: read itself.
_SURVEY_PAGE = _survey_page_statement()


def get_survey_page(session: Session, token_id: str) -> SurveyPage:
    """The survey version a receipt asks (decided when it was issued), its store and the
    chain's branding, in one query: every survey page and submit asks it first.

    Raises
    ------
    UnknownReceipt
        No receipt has this token id (e.g. a restored older backup).
    """
    row = session.connection().execute(_SURVEY_PAGE, {"token_id": token_id}).one_or_none()
    if row is None:
        raise UnknownReceipt()
    answered_at, version_id, content_hash, survey_id, name, store_format, zone, *brand = row
    assert survey_id is not None, "a receipt asks a version of a survey, never a checklist"
    branding_id, zh, en, logo, colour = brand
    return SurveyPage(
        definition=_definition(session, version_id, content_hash),
        survey_id=survey_id,
        store_name=name,
        store_format=store_format,
        store_timezone=zone,
        branding=NO_BRANDING if branding_id is None else ShopperBranding(zh, en, logo, colour),
        answered=answered_at is not None,
    )


def _definition(session: Session, version_id: int, content_hash: str) -> SurveyDefinition:
    """The version's definition, its document read only the first time in this process (a
    version never changes: the same hash, the same content)."""
    found = _DEFINITIONS.get(content_hash)
    if found is None:
        version = session.get(SurveyVersion, version_id)
        assert version is not None
        found = definition_of(version)
        if len(_DEFINITIONS) < 1024:
            _DEFINITIONS[content_hash] = found
    return found


_DEFINITIONS: dict[str, SurveyDefinition] = {}


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
