"""What shoppers type into custom questions (text answers, the text beside "other") is
treated like their comments: `purge` clears it after the comment retention, `erase-customer`
at once; the answer rows and every count stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.admin.retention import erase_customer, purge_expired
from portal.audit import CLI
from portal.db import utcnow
from portal.models import AuditEntry, QuestionDailyCount, Response, ResponseAnswer
from portal.receipts import issue_receipt
from portal.rollups import rebuild_rollups
from portal.shopper.operations import record_response
from portal.versions import definition_of
from surveys.answers import Answers, CustomAnswer
from surveys.codes import format_short_code
from surveys.definitions import QuestionKind
from tests.portal.shopper.custom_survey import custom_document, publish

NOW = utcnow()


@pytest.fixture
def answered(db_session, settings, make_store):
    """Two responses with typed texts: one three years old, one from yesterday."""
    version = publish(db_session, custom_document(), NOW - timedelta(days=2000))
    store = make_store()
    made = {}
    for name, age in (("old", timedelta(days=1100)), ("recent", timedelta(days=1))):
        issued = issue_receipt(
            db_session,
            settings,
            store=store,
            staff_code=None,
            transaction_id=name,
            issued_at=None,
            total_cents=None,
            now=NOW - age - timedelta(hours=1),
            survey_key="custom",
        )
        made[name] = record_response(
            db_session,
            settings=settings,
            receipt=issued.receipt,
            definition=definition_of(version),
            answers=Answers(
                9,
                5,
                {},
                False,
                None,
                None,
                None,
                custom=(
                    CustomAnswer("visit_reason", QuestionKind.CHOICE, "other", f"{name} 138 0000"),
                    CustomAnswer("story", QuestionKind.TEXT, f"{name} story, call 139 1111"),
                    CustomAnswer("self_checkout", QuestionKind.BOOLEAN, True),
                ),
            ),
            locale="zh_CN",
            now=NOW - age,
        )
    db_session.flush()
    return made


def answers_of(db_session, response: Response) -> set[tuple]:
    return set(
        db_session.execute(
            select(
                ResponseAnswer.question_key,
                ResponseAnswer.number,
                ResponseAnswer.choice,
                ResponseAnswer.text,
            ).where(ResponseAnswer.response_id == response.id)
        )
    )


def question_counts(db_session) -> dict[tuple, int]:
    rows = db_session.execute(
        select(QuestionDailyCount.question_key, QuestionDailyCount.value, QuestionDailyCount.count)
    )
    return {(key, value): count for key, value, count in rows}


def test_purge_clears_old_answer_texts_and_keeps_rows_and_counts(db_session, answered):
    counted = question_counts(db_session)
    removed = purge_expired(db_session, CLI, contact_days=90, comment_days=730, now=NOW)
    assert removed.answer_texts == 2
    assert answers_of(db_session, answered["old"]) == {
        ("visit_reason", None, "other", None),
        ("story", None, None, None),
        ("self_checkout", 1, None, None),
    }
    assert ("story", None, None, "recent story, call 139 1111") in answers_of(
        db_session, answered["recent"]
    )
    assert question_counts(db_session) == counted
    rebuild_rollups(db_session)
    assert question_counts(db_session) == counted
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.purge")
    ).one()
    assert entry.details["answer_texts"] == 2 and "139" not in str(entry.details)


def test_erasure_clears_one_customers_answer_texts(db_session, answered):
    code = format_short_code(answered["recent"].receipt.short_code)
    removed = erase_customer(db_session, CLI, code=code, now=NOW)
    assert removed.answer_texts == 2
    texts = {row[3] for row in answers_of(db_session, answered["recent"])}
    assert texts == {None}
    assert ("story", None, None, "old story, call 139 1111") in answers_of(
        db_session, answered["old"]
    )


def test_the_purge_command_reports_the_answer_texts(runner, answered):
    result = runner.invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "2 answer text(s)" in result.output
