"""The POS may name a survey (``"survey": "<key>"``) and ``issue-receipts`` takes
``--survey``: an unknown or unpublished key is a 422 and nothing is stored; a reprint naming
another survey is a conflict like any other changed field; without the field, answers are
as before."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import func, select

from portal.audit import CLI
from portal.db import utcnow
from portal.models import DEFAULT_SURVEY_KEY, Receipt
from portal.pos_api.operations import create_api_key
from tests.portal.targeting.factories import add_survey


@pytest.fixture
def key(db_session, chain):
    new = create_api_key(db_session, chain.supermarket, actor=CLI, now=utcnow())
    db_session.flush()
    return new.secret


def post(client, key, body):
    return client.post("/api/v1/receipts", json=body, headers={"Authorization": f"Bearer {key}"})


def receipts(db_session) -> list[Receipt]:
    db_session.expire_all()
    return list(db_session.scalars(select(Receipt).order_by(Receipt.id)))


def test_a_till_naming_a_survey_gets_its_latest_version(client, db_session, chain, key):
    response = post(
        client, key, {"transaction_id": "T-1", "staff_code": "S001", "survey": "convenience"}
    )
    assert response.status_code == 201
    assert set(response.get_json()) == {
        "token",
        "short_code",
        "survey_url",
        "qr_svg_url",
        "qr_png_url",
        "expires_at",
    }
    (receipt,) = receipts(db_session)
    assert receipt.survey_version_id == chain.v2.id


@pytest.mark.parametrize(
    ("survey", "status", "message"),
    [
        ("no-such-survey", 422, "No survey with key 'no-such-survey' has a published version."),
        ("draft-only", 422, "No survey with key 'draft-only' has a published version."),
        (7, 422, "survey must be a string."),
        ("", 422, "survey must be 1 to 64 characters."),
    ],
)
def test_an_unknown_or_unpublished_survey_is_refused_and_nothing_stored(
    client, db_session, chain, key, survey, status, message
):
    add_survey(db_session, "draft-only", draft=True)
    response = post(client, key, {"transaction_id": "T-1", "staff_code": "S001", "survey": survey})
    assert response.status_code == status
    assert response.get_json()["error"]["message"] == message
    assert response.get_json()["error"]["field"] == "survey"
    assert receipts(db_session) == []


def test_a_reprint_naming_another_survey_conflicts_and_the_same_survey_answers_200(
    client, db_session, chain, key
):
    first = post(
        client, key, {"transaction_id": "T-1", "staff_code": "S001", "survey": "convenience"}
    )
    assert first.status_code == 201
    same = post(
        client, key, {"transaction_id": "T-1", "staff_code": "S001", "survey": "convenience"}
    )
    left_out = post(client, key, {"transaction_id": "T-1", "staff_code": "S001"})
    assert same.status_code == left_out.status_code == 200
    assert same.get_json()["token"] == left_out.get_json()["token"] == first.get_json()["token"]
    other = post(
        client, key, {"transaction_id": "T-1", "staff_code": "S001", "survey": DEFAULT_SURVEY_KEY}
    )
    assert other.status_code == 409
    assert other.get_json()["error"] == {
        "code": "conflicting_receipt",
        "message": "This transaction id was already issued with another survey.",
        "field": "survey",
    }
    unknown = post(client, key, {"transaction_id": "T-1", "staff_code": "S001", "survey": "nope"})
    assert unknown.status_code == 422
    assert len(receipts(db_session)) == 1


def test_a_till_naming_no_survey_gets_what_the_rules_decide(client, db_session, chain, key):
    response = post(client, key, {"transaction_id": "T-1", "staff_code": "S001"})
    assert response.status_code == 201
    (receipt,) = receipts(db_session)
    assert receipt.survey_version.survey_key == DEFAULT_SURVEY_KEY


def test_issue_receipts_takes_a_survey(runner, db_session, chain, tmp_path):
    out = tmp_path / "batch"
    result = runner.invoke(
        args=[
            "issue-receipts",
            "SH-001",
            "--count",
            "2",
            "--out",
            str(out),
            "--survey",
            "convenience",
        ]
    )
    assert result.exit_code == 0, result.output
    with (out / "receipts.csv").open(encoding="utf-8") as index:
        assert len(list(csv.DictReader(index))) == 2
    assert {r.survey_version_id for r in receipts(db_session)} == {chain.v2.id}
    refused = runner.invoke(
        args=["issue-receipts", "SH-001", "--count", "2", "--out", str(out), "--survey", "nope"]
    )
    assert refused.exit_code != 0
    assert "No survey with key 'nope' has a published version." in refused.output
    assert db_session.scalar(select(func.count()).select_from(Receipt)) == 2
