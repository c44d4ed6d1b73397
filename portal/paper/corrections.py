"""Correcting a stored answer when a paper card's second keying is the one that stands:
the response's columns, its custom answers, its contact details, and every count made of
it (the daily rollups and the custom questions' daily counts), in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.cases.operations import open_case_for_response
from portal.config import Settings
from portal.models import Case, Response, ResponseAnswer, ResponseContact, SurveyVersion
from portal.models.receipts import RATING_KEYS
from portal.paper.keyings import answers_of
from portal.question_rollups import count_answers, insert_answers
from portal.rollups import count_correction, response_increments
from portal.themes.classify import classify_response
from surveys.answers import Answers
from surveys.definitions import SurveyDefinition


def correct_response(
    session: Session,
    settings: Settings,
    response: Response,
    answers: Answers,
    definition: SurveyDefinition,
    *,
    now: datetime,
) -> None:
    """Make ``response`` hold ``answers`` (of its own version ``definition``) and move its
    counts accordingly. Its day, channel, store and staff member do not change, so the
    counts move within the same rollup rows.

    A corrected answer that now calls for a follow-up case gets one, if it had none. A
    case opened for the first keying stays: a manager closes it if it is not needed.
    """
    before = response_increments(response)
    old_custom = answers_of(response, definition).custom
    response.nps, response.csat = answers.nps, answers.csat
    for key in RATING_KEYS:
        setattr(response, key, answers.ratings.get(key))
    response.problem_reported = answers.problem_reported
    response.problem_category = answers.problem_category
    comment_changed = response.comment != answers.comment
    response.comment = answers.comment
    _replace_custom_answers(session, response, answers)
    _replace_contact(session, response, answers, definition, now)
    session.flush()
    if comment_changed:
        classify_response(session, response, now=now)
    survey_id = session.scalar(
        select(SurveyVersion.survey_id).where(SurveyVersion.id == response.survey_version_id)
    )
    assert survey_id is not None, "answers are to a survey, never to a checklist"
    for counted, sign in ((old_custom, -1), (answers.custom, 1)):
        count_answers(
            session,
            survey_id=survey_id,
            store_id=response.store_id,
            day=response.local_day,
            channel=response.channel,
            answers=counted,
            sign=sign,
        )
    count_correction(session, response, before)
    has_case = session.scalar(select(Case.id).where(Case.response_id == response.id))
    if has_case is None:
        open_case_for_response(session, settings, response, now=now)


def _replace_custom_answers(session: Session, response: Response, answers: Answers) -> None:
    session.execute(delete(ResponseAnswer).where(ResponseAnswer.response_id == response.id))
    session.expire(response, ["answers"])
    insert_answers(session, response.id, answers.custom)


def _replace_contact(
    session: Session,
    response: Response,
    answers: Answers,
    definition: SurveyDefinition,
    now: datetime,
) -> None:
    contact = response.contact
    if answers.contact is None:
        if contact is not None:
            session.delete(contact)
            response.contact = None
        return
    if contact is None:
        contact = ResponseContact(
            response_id=response.id,
            consent_text=definition.consent.get(response.locale),
            consented_at=now,
        )
        session.add(contact)
        response.contact = contact
    contact.phone, contact.email = answers.contact.phone, answers.contact.email
