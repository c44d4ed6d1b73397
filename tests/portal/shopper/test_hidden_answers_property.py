"""Property test through the web form: whatever a shopper's browser sends (a page without
CSS ``:has()`` or JavaScript sends answers to every question it drew), an answer to a
question hidden by its condition or the store's format is never stored."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.db import utcnow
from portal.models import Response, ResponseAnswer
from portal.receipts import issue_receipt
from portal.versions import definition_of
from surveys.conditions import shown_questions
from tests.conftest import csrf_token_from
from tests.portal.shopper.custom_survey import custom_document, publish

FORMATS = ["supermarket", "convenience", "department_store"]
SENT = st.fixed_dictionaries(
    {
        "nps": st.integers(0, 10),
        "csat": st.integers(1, 5),
        "self_checkout": st.sampled_from([None, "yes", "no"]),
        "checkout_ease": st.one_of(st.none(), st.integers(1, 5)),
        "departments": st.lists(st.sampled_from(["food", "fashion", "electronics"]), unique=True),
        "improve": st.sampled_from([None, "排队", "price tags"]),
        "story": st.sampled_from([None, "还行"]),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sent=SENT, store_format=st.sampled_from(FORMATS))
def test_an_answer_to_a_hidden_question_is_never_stored(
    client, db_session, settings, make_store, sent, store_format
):
    version = publish(db_session, custom_document(), utcnow())
    store = make_store(format=store_format)
    issued = issue_receipt(
        db_session,
        settings,
        store=store,
        staff_code=None,
        transaction_id="P-1",
        issued_at=None,
        total_cents=None,
        now=utcnow(),
        survey_key=version.survey_key,
    )
    db_session.flush()
    form: dict[str, Any] = {"visit_reason": "groceries"}
    form |= {key: str(value) for key, value in sent.items() if value not in (None, [])}
    form["departments"] = sent["departments"]
    url = f"/r/{issued.token}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    # A phone of its own each time: the per-address submit limit is not under test.
    phone = {"REMOTE_ADDR": f"10.0.{issued.receipt.id // 250}.{issued.receipt.id % 250}"}
    page = client.post(url, data={"csrf_token": token, **form}, environ_overrides=phone)

    typed = {
        "nps": sent["nps"],
        "csat": sent["csat"],
        "visit_reason": "groceries",
        **({"self_checkout": sent["self_checkout"] == "yes"} if sent["self_checkout"] else {}),
        **({"checkout_ease": sent["checkout_ease"]} if sent["checkout_ease"] else {}),
        **({"departments": frozenset(sent["departments"])} if sent["departments"] else {}),
        **({"improve": sent["improve"]} if sent["improve"] else {}),
        **({"story": sent["story"]} if sent["story"] else {}),
    }
    shown = {q.key for q in shown_questions(definition_of(version), typed, store_format)}
    stored = set(
        db_session.scalars(
            select(ResponseAnswer.question_key)
            .join(Response, Response.id == ResponseAnswer.response_id)
            .where(Response.receipt_id == issued.receipt.id)
        )
    )
    if page.status_code == 400:
        # Only a shown, required, unanswered question refuses a submit here.
        assert "checkout_ease" in shown and "checkout_ease" not in typed
        assert stored == set()
        return
    assert page.status_code == 200
    assert stored <= shown
    assert stored == {key for key in typed if key in shown} - {"nps", "csat"}
