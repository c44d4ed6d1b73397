"""What a telephone return visit asks and whom its answer names: the scoring questions of the
store's current survey version, and the cashier only when a receipt named them.

The call asks the core questions (`surveys.definitions.CORE_KEYS`: likelihood to recommend
0-10, overall satisfaction 1-5), whose wording and scale every version keeps, so that a
phone answer counts in the same NPS and CSAT as the shopper's own. Their answers are
checked by the shopper's rules (`surveys.answers.validate_answers`) over the version cut
down to those questions; "was your problem solved?" is the visit's own column.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from portal.calendar import local_day
from portal.models import Channel, Response, Store, SurveyVersion
from portal.targeting import version_for_receipt
from surveys.definitions import SurveyDefinition
from surveys.tokens import new_token_id


def phone_survey_version(session: Session, store: Store, now: datetime) -> SurveyVersion:
    """The version a phone answer of ``store`` belongs to: the one a receipt of the store
    issued ``now`` would ask (its targeting rules, else the default survey)."""
    # A fresh random id stands in for the receipt's: an A/B split treats the call like any
    # receipt of the day.
    return version_for_receipt(session, store, local_day(now, store.timezone), new_token_id())


def phone_questions(definition: SurveyDefinition) -> SurveyDefinition:
    """``definition`` asking only its scoring questions: what the call asks and what its
    answers are validated against."""
    return replace(definition, questions=tuple(q for q in definition.questions if q.is_core))


def named_cashier(response: Response | None) -> int | None:
    """The cashier a receipt names for the answer a call is about, or None.

    A phone answer goes to a cashier's record only through a receipt: the answer's own
    receipt, or for an earlier phone answer the cashier it was given by this same rule. A
    kiosk answer without a typed code, or a complaint taken by hand, names nobody.
    """
    if response is None:
        return None
    if response.receipt_id is not None:
        return response.receipt.staff_id if response.receipt is not None else None
    if response.channel == Channel.PHONE:
        return response.staff_id
    return None
