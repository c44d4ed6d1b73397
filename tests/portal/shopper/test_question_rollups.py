"""The daily counts of custom questions equal a recount of the raw answer rows after many
random writes through `record_response` (two versions of a survey, several stores and
days), and again after ``rebuild-rollups``."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.db import utcnow
from portal.models import QuestionDailyCount, Response, ResponseAnswer, SurveyVersion
from portal.receipts import issue_receipt
from portal.rollups import rebuild_rollups
from portal.shopper.operations import record_response
from portal.versions import definition_of
from surveys.answers import Answers, CustomAnswer
from surveys.definitions import OTHER, Question, QuestionKind
from tests.portal.shopper.custom_survey import custom_document, publish

Key = tuple[int, str, int, Any, str]


def counts(session: Session) -> Counter[Key]:
    rows = session.execute(
        select(
            QuestionDailyCount.survey_id,
            QuestionDailyCount.question_key,
            QuestionDailyCount.store_id,
            QuestionDailyCount.day,
            QuestionDailyCount.value,
            QuestionDailyCount.count,
        )
    )
    return Counter({tuple(row[:5]): row[5] for row in rows if row[5]})


def recount(session: Session) -> Counter[Key]:
    """What the raw rows say, counted in Python from each version's definition."""
    kinds: dict[tuple[int, str], QuestionKind] = {}
    survey_of: dict[int, int] = {}
    for version in session.scalars(
        select(SurveyVersion).where(SurveyVersion.survey_id.isnot(None))
    ):
        survey_of[version.id] = version.survey_id
        for question in definition_of(version).questions:
            kinds[(version.id, question.key)] = question.kind
    rows = session.execute(
        select(
            Response.id,
            Response.survey_version_id,
            Response.store_id,
            Response.local_day,
            ResponseAnswer.question_key,
            ResponseAnswer.number,
            ResponseAnswer.choice,
        ).join(ResponseAnswer, ResponseAnswer.response_id == Response.id)
    )
    total: Counter[Key] = Counter()
    respondents: set[tuple[Key, int]] = set()
    for response_id, version_id, store_id, day, key, number, choice in rows:
        base = (survey_of[version_id], key, store_id, day)
        respondents.add(((*base, ""), response_id))
        kind = kinds[(version_id, key)]
        if kind is QuestionKind.SCALE:
            total[(*base, str(number))] += 1
        elif kind is QuestionKind.BOOLEAN:
            total[(*base, "yes" if number == 1 else "no")] += 1
        elif kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE):
            total[(*base, choice)] += 1
    for key, _response in respondents:
        total[key] += 1
    return total


def random_answer(rng: random.Random, question: Question) -> CustomAnswer | None:
    if rng.random() < 0.25:
        return None
    kind = question.kind
    if kind is QuestionKind.SCALE:
        assert question.minimum is not None and question.maximum is not None
        value: Any = rng.randint(question.minimum, question.maximum)
    elif kind is QuestionKind.BOOLEAN:
        value = rng.random() < 0.5
    elif kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE):
        offered = [*question.choice_keys(), *([OTHER] if question.other else [])]
        picked = rng.sample(offered, rng.randint(1, len(offered)))
        value = picked[0] if kind is QuestionKind.CHOICE else frozenset(picked)
    else:
        value = rng.choice(["排队太久", "good", "货架空了"])
    chose_other = value == OTHER or (isinstance(value, frozenset) and OTHER in value)
    return CustomAnswer(question.key, kind, value, "自己写的" if chose_other else None)


@pytest.fixture
def versions(db_session) -> list[SurveyVersion]:
    first = publish(db_session, custom_document(), utcnow())
    # Version 2 drops the departments, and "story" becomes a yes/no under the same key.
    document = custom_document()
    document["questions"] = [q for q in document["questions"] if q["key"] != "departments"]
    for question in document["questions"]:
        if question["key"] == "story":
            question.update(kind="boolean")
            question.pop("max_length")
    return [first, publish(db_session, document, utcnow())]


@pytest.mark.parametrize("seed", [1, 2])
def test_question_counts_equal_a_recount_of_the_answers_and_of_a_rebuild(
    db_session, settings, make_store, versions, seed, runner
):
    rng = random.Random(seed)
    stores = [make_store(format=f) for f in ("supermarket", "department_store", "convenience")]
    now = utcnow()
    for n in range(90):
        version = rng.choice(versions)
        store = rng.choice(stores)
        when = now - timedelta(days=rng.randint(0, 3), hours=rng.randint(0, 23))
        issued = issue_receipt(
            db_session,
            settings,
            store=store,
            staff_code=None,
            transaction_id=f"R-{seed}-{n}",
            issued_at=None,
            total_cents=None,
            now=when - timedelta(minutes=5),
            survey_key=version.survey_key,
        )
        # The receipt asks the survey's latest version; the test picks either.
        issued.receipt.survey_version_id = version.id
        definition = definition_of(version)
        custom = tuple(
            answer
            for question in definition.custom_questions()
            if (answer := random_answer(rng, question)) is not None
        )
        record_response(
            db_session,
            settings=settings,
            receipt=issued.receipt,
            definition=definition,
            answers=Answers(
                nps=rng.randint(7, 10),
                csat=rng.randint(3, 5),
                ratings={},
                problem_reported=False,
                problem_category=None,
                comment=None,
                contact=None,
                custom=custom,
            ),
            locale="zh_CN",
            now=when,
        )
    db_session.flush()
    expected = recount(db_session)
    assert sum(expected.values()) > 200
    assert counts(db_session) == expected
    rebuild_rollups(db_session)
    assert counts(db_session) == expected
    # The command too, from an emptied table.
    db_session.execute(delete(QuestionDailyCount))
    result = runner.invoke(args=["rebuild-rollups"])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert counts(db_session) == expected


def test_a_rebuild_of_some_stores_leaves_the_others(db_session, settings, make_store, versions):
    stores = [make_store(), make_store()]
    for n, store in enumerate(stores):
        issued = issue_receipt(
            db_session,
            settings,
            store=store,
            staff_code=None,
            transaction_id=f"S-{n}",
            issued_at=None,
            total_cents=None,
            now=utcnow(),
            survey_key="custom",
        )
        record_response(
            db_session,
            settings=settings,
            receipt=issued.receipt,
            definition=definition_of(versions[1]),
            answers=Answers(
                9,
                5,
                {},
                False,
                None,
                None,
                None,
                custom=(CustomAnswer("self_checkout", QuestionKind.BOOLEAN, True),),
            ),
            locale="en",
            now=utcnow(),
        )
    before = counts(db_session)
    db_session.execute(
        delete(QuestionDailyCount).where(QuestionDailyCount.store_id == stores[1].id)
    )
    rebuild_rollups(db_session, [stores[0].id])
    assert {key[2] for key in counts(db_session)} == {stores[0].id}
    rebuild_rollups(db_session, [stores[1].id])
    assert counts(db_session) == before
