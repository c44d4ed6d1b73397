"""Which survey version a receipt asks: decided once, when the receipt is issued.

Targeting rules (`portal.models.TargetRule`) name a survey for one store, a region, a
store format or the whole chain, optionally for some dates and optionally split between
two versions (an A/B test). The most specific rule that applies wins; a store no rule
names gets the default survey. A POS may also name a survey for a receipt.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import DomainError
from portal.models import Store, Survey, SurveyVersion
from portal.versions import default_survey, latest_version


class UnknownSurvey(DomainError):
    status = 422
    code = "unknown_survey"


def version_for_receipt(
    session: Session, store: Store, day: date, token_id: str, survey_key: str | None = None
) -> SurveyVersion:
    """The published version a new receipt of ``store`` issued on ``day`` (store-local)
    asks.

    Parameters
    ----------
    token_id : str
        The receipt's random token id: an A/B split assigns by it, so that the same
        receipt always gets the same version.
    survey_key : str, optional
        A survey the POS names; it overrides the targeting rules.

    Raises
    ------
    UnknownSurvey
        ``survey_key`` names no survey with a published version.
    """
    if survey_key is not None:
        survey = session.scalar(select(Survey).where(Survey.key == survey_key))
        version = None if survey is None else latest_version(session, survey.id)
        if version is None:
            raise UnknownSurvey(f"No published survey with key {survey_key!r}.", field="survey")
        return version
    version = latest_version(session, default_survey(session).id)
    assert version is not None, "migration 0011 publishes version 1 of the default survey"
    return version
