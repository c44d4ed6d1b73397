"""The survey owner's editor through the browser's eyes: creating a survey, every kind of
edit of its draft, refusals with their message and status (and nothing written), CSRF on
every form, who may open it, and the page in both languages."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from portal.models import AuditEntry, Role, Survey, SurveyVersion
from tests.conftest import PASSWORD, csrf_token_from, post_form
from tests.portal.survey_editor.conftest import EN, ZH, page_of, send, survey_row

DRAFT = "/surveys/seasonal/draft"
NEW_QUESTION = "/surveys/seasonal/draft/new-question"


def create(client: Any, key: str = "seasonal", start: str = "copy") -> Any:
    return post_form(client, "/surveys/new", {"key": key, "start": start}, headers=EN)


@pytest.fixture
def seasonal(client, owner, db_session) -> Survey:
    """A new survey started as a copy of the default survey."""
    assert create(client).status_code == 302
    return survey_row(db_session, "seasonal")


def question_data(
    key: str, kind: str, zh: str = "你好吗？", en: str = "How are you?", **extra: Any
):
    return {"key": key, "kind": kind, "text_zh": zh, "text_en": en, "match": "all", **extra}


def add_question(client: Any, data: dict[str, Any]) -> Any:
    return send(client, NEW_QUESTION, data, page=NEW_QUESTION)


def keys_of(survey: Survey) -> list[str]:
    return [q["key"] for q in survey.draft["questions"]]


def stored(db_session, key: str) -> dict[str, Any]:
    survey = survey_row(db_session, "seasonal")
    return next(q for q in survey.draft["questions"] if q["key"] == key)


# -- creating --------------------------------------------------------------------------------


def test_a_new_survey_copies_the_default_survey_into_a_draft_and_has_no_version(
    client, owner, db_session
):
    response = create(client)
    assert response.status_code == 302 and response.location.endswith(DRAFT)
    survey = survey_row(db_session, "seasonal")
    default = db_session.scalars(select(SurveyVersion).where(SurveyVersion.number == 1)).first()
    assert survey.draft["key"] == "seasonal"
    assert survey.draft["questions"] == default.definition["questions"]
    assert (survey.draft_revision, survey.draft_updated_by_user_id) == (1, owner.id)
    assert db_session.scalar(select(func.count()).where(SurveyVersion.survey_id == survey.id)) == 0
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "survey.created")
    ).one()
    assert (entry.subject_id, entry.details["change"]) == ("seasonal", "copy")
    page = page_of(client, DRAFT)
    assert "Not yet published." in page and "No problems: this draft can be published." in page


def test_the_survey_list_leads_to_a_new_survey_and_to_each_draft(client, seasonal):
    page = page_of(client, "/surveys")
    assert 'href="/surveys/new"' in page
    assert 'href="/surveys/seasonal/draft"' in page and 'href="/surveys/receipt/draft"' in page


def test_a_minimal_survey_asks_only_the_two_scoring_questions(client, owner, db_session):
    assert create(client, start="minimal").status_code == 302
    survey = survey_row(db_session, "seasonal")
    assert keys_of(survey) == ["nps", "csat"]
    assert survey.draft["title"]["zh_CN"]


def test_a_survey_key_already_taken_is_refused_on_its_field(client, seasonal, db_session):
    response = create(client)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "A survey with this key already exists: choose another key." in page
    assert 'id="key-errors"' in page
    assert create(client, key="receipt").status_code == 409
    assert db_session.scalar(select(func.count()).select_from(Survey)) == 2


@pytest.mark.parametrize("key", ["Seasonal", "2027", "summer-sale", "", "x" * 49])
def test_an_invalid_survey_key_is_refused(client, owner, db_session, key):
    response = create(client, key=key)
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(Survey)) == 1


# -- the texts ---------------------------------------------------------------------------------


def test_the_survey_texts_are_saved_with_the_revision_stamp_and_audit(
    client, seasonal, db_session, owner
):
    texts = "/surveys/seasonal/draft/texts"
    assert "购物体验调查" in page_of(client, texts)
    data = {
        "title_zh": "夏季调查",
        "title_en": "Summer survey",
        "intro_zh": "你好",
        "intro_en": "Hello",
        "thanks_zh": "谢谢",
        "thanks_en": "",
        "consent_zh": "同意",
        "consent_en": "I agree",
    }
    response = send(client, texts, data, page=texts)
    assert response.status_code == 302
    survey = survey_row(db_session, "seasonal")
    assert survey.draft["title"] == {"zh_CN": "夏季调查", "en": "Summer survey"}
    assert survey.draft["thanks"] == {"zh_CN": "谢谢", "en": ""}
    assert survey.draft_revision == 2 and survey.draft_updated_by_user_id == owner.id
    assert db_session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "survey.draft_saved")
    ).all() == [{"change": "texts", "question": None}]
    # A missing translation is saved, and listed on the draft page as a problem.
    page = page_of(client, DRAFT)
    assert "The thank-you text has no English." in page


# -- questions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        ("scale_5", {}, {"kind": "scale", "min": 1, "max": 5}),
        ("scale_11", {"low_zh": "低", "low_en": "Low"}, {"min": 0, "max": 10}),
        ("boolean", {"required": "y"}, {"kind": "boolean", "required": True}),
        (
            "choice",
            {
                "choices-0-key": "cash",
                "choices-0-text_zh": "现金",
                "choices-0-text_en": "Cash",
                "other": "y",
            },
            {"kind": "choice", "other": True},
        ),
        (
            "multiple",
            {"choices-0-key": "app", "choices-0-text_zh": "应用", "choices-0-text_en": "App"},
            {
                "kind": "multiple",
                "choices": [{"key": "app", "text": {"zh_CN": "应用", "en": "App"}}],
            },
        ),
        ("short_text", {}, {"kind": "short_text", "max_length": 200}),
        ("text", {}, {"kind": "text", "max_length": 2000}),
        ("text", {"max_length": "500"}, {"max_length": 500}),
        (
            "boolean",
            {"help_zh": "帮助", "help_en": "Help"},
            {"help": {"zh_CN": "帮助", "en": "Help"}},
        ),
        ("boolean", {"group": "service"}, {"group": "service"}),
    ],
)
def test_a_question_of_every_kind_is_added_at_the_end(
    client, seasonal, db_session, kind, extra, expected
):
    response = add_question(client, question_data("extra", kind, **extra))
    assert response.status_code == 302, response.get_data(as_text=True)
    question = stored(db_session, "extra")
    assert keys_of(survey_row(db_session, "seasonal"))[-1] == "extra"
    assert {k: question.get(k) for k in expected} == expected
    assert question["text"] == {"zh_CN": "你好吗？", "en": "How are you?"}


def test_choices_are_reordered_and_removed_and_blank_rows_left_out(client, seasonal, db_session):
    data = question_data(
        "paid",
        "choice",
        **{
            "choices-0-key": "cash",
            "choices-0-text_zh": "现金",
            "choices-0-text_en": "Cash",
            "choices-0-order": "2",
            "choices-1-key": "card",
            "choices-1-text_zh": "银行卡",
            "choices-1-text_en": "Card",
            "choices-1-order": "1",
            "choices-2-key": "cheque",
            "choices-2-text_zh": "支票",
            "choices-2-text_en": "Cheque",
            "choices-2-remove": "y",
        },
    )
    assert add_question(client, data).status_code == 302
    assert [c["key"] for c in stored(db_session, "paid")["choices"]] == ["card", "cash"]
    # The edit page shows them in order, with blank rows to add more.
    page = page_of(client, "/surveys/seasonal/draft/questions/paid")
    assert page.index('value="card"') < page.index('value="cash"')
    assert 'name="choices-4-key"' in page


def test_more_rows_adds_blank_rows_and_saves_nothing(client, seasonal, db_session):
    page = page_of(client, NEW_QUESTION)
    assert 'name="choices-2-key"' in page and 'name="choices-3-key"' not in page
    response = send(
        client, NEW_QUESTION, {**question_data("x", "choice"), "more_rows": "1"}, page=NEW_QUESTION
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="choices-5-key"' in html and 'name="rules-3-subject"' in html
    assert survey_row(db_session, "seasonal").draft_revision == 1


def test_a_condition_on_earlier_answers_and_the_store_format_is_saved(client, seasonal, db_session):
    data = question_data(
        "department",
        "choice",
        match="any",
        **{
            "choices-0-key": "food",
            "choices-0-text_zh": "食品",
            "choices-0-text_en": "Food",
            "rules-0-subject": "csat",
            "rules-0-op": "le",
            "rules-0-number": "2",
            "rules-1-subject": "store_format",
            "rules-1-formats": ["department_store", "supermarket"],
        },
    )
    assert add_question(client, data).status_code == 302
    assert stored(db_session, "department")["show_if"] == {
        "any": [
            {"question": "csat", "op": "le", "value": 2},
            {"store_format": ["department_store", "supermarket"]},
        ]
    }
    yes_no = question_data(
        "why",
        "short_text",
        **{
            "rules-0-subject": "problem",
            "rules-0-op": "yes",
            "rules-1-subject": "department",
            "rules-1-op": "in",
            "rules-1-choices": "food, other",
        },
    )
    assert add_question(client, yes_no).status_code == 302
    assert stored(db_session, "why")["show_if"] == {
        "all": [
            {"question": "problem", "op": "eq", "value": True},
            {"question": "department", "op": "in", "values": ["food", "other"]},
        ]
    }
    page = page_of(client, DRAFT)
    # The missing choice is a problem of the draft, named on its page.
    assert "Its condition names choice <code>other</code>" in page
    assert "Shown when any of these holds" in page
    edit = page_of(client, "/surveys/seasonal/draft/questions/why")
    assert 'value="food, other"' in edit and 'selected value="yes"' in edit


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"rules-0-subject": "csat"}, "rules-0-op"),
        ({"rules-0-subject": "csat", "rules-0-op": "le"}, "rules-0-number"),
        ({"rules-0-subject": "csat", "rules-0-op": "in"}, "rules-0-choices"),
        ({"rules-0-subject": "store_format"}, "rules-0-formats"),
        ({"rules-0-subject": "nowhere", "rules-0-op": "yes"}, "rules-0-subject"),
        ({"choices-0-text_zh": "现金"}, "choices-0-key"),
        ({"choices-0-key": "Cash!"}, "choices-0-key"),
        ({"key": "Bad Key"}, "key"),
        ({"kind": "slider"}, "kind"),
        ({"max_length": "1e3"}, "max_length"),
    ],
)
def test_an_incomplete_question_form_is_refused_on_its_field_and_nothing_saved(
    client, seasonal, db_session, rule, field
):
    response = add_question(client, {**question_data("extra", "choice"), **rule})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-errors"' in page
    survey = survey_row(db_session, "seasonal")
    assert survey.draft_revision == 1 and "extra" not in keys_of(survey)


def test_a_duplicate_question_key_is_refused(client, seasonal, db_session):
    response = add_question(client, question_data("comment", "text"))
    assert response.status_code == 400
    assert "Another question of this survey already has this key." in response.get_data(
        as_text=True
    )
    assert keys_of(survey_row(db_session, "seasonal")).count("comment") == 1


def test_editing_a_question_renames_it_in_the_conditions_that_look_at_it(
    client, seasonal, db_session
):
    add_question(client, question_data("paid", "boolean"))
    add_question(
        client,
        question_data("why", "short_text", **{"rules-0-subject": "paid", "rules-0-op": "no"}),
    )
    url = "/surveys/seasonal/draft/questions/paid"
    response = send(client, url, question_data("paid_cash", "boolean", en="Paid cash?"), page=url)
    assert response.status_code == 302
    assert stored(db_session, "paid_cash")["text"]["en"] == "Paid cash?"
    assert stored(db_session, "why")["show_if"]["all"][0]["question"] == "paid_cash"
    assert "paid" not in keys_of(survey_row(db_session, "seasonal"))


def test_a_standard_question_keeps_its_key_kind_and_scale(client, seasonal, db_session):
    url = "/surveys/seasonal/draft/questions/rating_speed"
    page = page_of(client, url)
    assert 'name="key"' not in page and 'name="kind"' not in page
    data = question_data("renamed", "text", zh="结账快吗？", en="Was checkout quick?")
    assert send(client, url, data, page=url).status_code == 302
    question = stored(db_session, "rating_speed")
    assert (question["kind"], question["min"], question["max"]) == ("scale", 1, 5)
    assert question["text"]["en"] == "Was checkout quick?"


def test_a_core_question_is_marked_and_its_wording_may_be_edited(client, seasonal, db_session):
    url = "/surveys/seasonal/draft/questions/nps"
    page = page_of(client, url)
    assert "Changing this starts a new scoring series." in page and 'id="core-note"' in page
    data = question_data("nps", "scale_11", en="Would you recommend us?", zh="您会推荐我们吗？")
    assert send(client, url, data, page=url).status_code == 302
    assert stored(db_session, "nps")["text"]["en"] == "Would you recommend us?"


def test_questions_move_up_and_down(client, seasonal, db_session):
    move = "/surveys/seasonal/draft/questions/csat/move"
    assert send(client, move, {"direction": "up"}, page=DRAFT).status_code == 302
    assert keys_of(survey_row(db_session, "seasonal"))[:2] == ["csat", "nps"]
    assert send(client, move, {"direction": "down"}, page=DRAFT).status_code == 302
    assert send(client, move, {"direction": "down"}, page=DRAFT).status_code == 302
    assert keys_of(survey_row(db_session, "seasonal"))[:3] == ["nps", "rating_friendliness", "csat"]
    assert send(client, move, {"direction": "sideways"}, page=DRAFT).status_code == 400


def test_a_standard_question_may_be_removed_a_scoring_question_may_not(
    client, seasonal, db_session
):
    page = page_of(client, DRAFT)
    assert "/questions/comment/remove" in page
    assert "/questions/nps/remove" not in page and "/questions/csat/remove" not in page
    assert (
        send(client, "/surveys/seasonal/draft/questions/comment/remove", {}, page=DRAFT).status_code
        == 302
    )
    assert "comment" not in keys_of(survey_row(db_session, "seasonal"))
    response = send(client, "/surveys/seasonal/draft/questions/nps/remove", {}, page=DRAFT)
    assert response.status_code == 400
    assert (
        "A scoring question (likelihood to recommend, overall satisfaction) cannot be removed."
        in response.get_data(as_text=True)
    )
    survey = survey_row(db_session, "seasonal")
    assert "nps" in keys_of(survey) and survey.draft_revision == 2


def test_an_unknown_question_or_survey_is_a_404(client, seasonal):
    assert client.get("/surveys/seasonal/draft/questions/nowhere").status_code == 404
    assert client.get("/surveys/nowhere/draft").status_code == 404
    response = send(client, "/surveys/seasonal/draft/questions/nowhere/remove", {}, page=DRAFT)
    assert response.status_code == 404


# -- the checks on the page ----------------------------------------------------------------------


def test_the_draft_page_lists_every_problem_and_the_time_warning(client, seasonal):
    add_question(client, question_data("paid", "choice", en=""))
    add_question(
        client,
        question_data(
            "early",
            "boolean",
            **{"rules-0-subject": "csat", "rules-0-op": "ge", "rules-0-number": "4"},
        ),
    )
    send(client, "/surveys/seasonal/draft/questions/early/move", {"direction": "up"}, page=DRAFT)
    for _ in range(12):
        send(
            client, "/surveys/seasonal/draft/questions/early/move", {"direction": "up"}, page=DRAFT
        )
    page = page_of(client, DRAFT)
    assert "3 problems to fix before publishing:" in page
    assert "The question&#39;s text has no English." in page
    assert "The question offers no choice: add at least one." in page
    assert "Its condition looks at <code>csat</code>, which is not asked before it." in page
    assert 'id="warning-1"' in page and "more than the 60 s a receipt survey should take" in page
    assert "Answering takes about" in page


def test_the_draft_pages_in_chinese(client, seasonal):
    add_question(client, question_data("paid", "choice", en=""))
    page = client.get(DRAFT, headers=ZH).get_data(as_text=True)
    assert "问卷文字" in page and "发布第 1 版" in page and "题目文字缺少英文。" in page
    assert "作答约需" in page
    question = client.get("/surveys/seasonal/draft/questions/nps", headers=ZH).get_data(
        as_text=True
    )
    assert "修改此项将开始新的计分系列。" in question
    assert "新建问卷" in client.get("/surveys/new", headers=ZH).get_data(as_text=True)


# -- who may, and CSRF ---------------------------------------------------------------------------

POSTS = [
    ("/surveys/new", {"key": "other", "start": "copy"}),
    ("/surveys/seasonal/draft/texts", {"title_zh": "x", "title_en": "x"}),
    (NEW_QUESTION, question_data("extra", "boolean")),
    ("/surveys/seasonal/draft/questions/comment", question_data("comment", "text")),
    ("/surveys/seasonal/draft/questions/csat/move", {"direction": "up"}),
    ("/surveys/seasonal/draft/questions/comment/remove", {}),
    ("/surveys/seasonal/draft/start", {}),
    ("/surveys/seasonal/publish", {}),
]
GETS = [
    "/surveys/new",
    DRAFT,
    "/surveys/seasonal/draft/texts",
    NEW_QUESTION,
    "/surveys/seasonal/draft/questions/nps",
]


@pytest.mark.parametrize(("url", "data"), POSTS)
def test_every_form_of_the_editor_needs_its_csrf_token(client, seasonal, db_session, url, data):
    response = client.post(url, data={**data, "version": "1"}, headers=EN)
    assert response.status_code == 400
    survey = survey_row(db_session, "seasonal")
    assert survey.draft_revision == 1 and survey.draft is not None
    assert db_session.scalar(select(func.count()).select_from(Survey)) == 2


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HR, Role.REVIEWER, Role.MYSTERY])
def test_other_roles_may_not_open_or_use_the_editor(
    app, seasonal, make_user, make_store, db_session, role
):
    other = app.test_client()
    user = make_user(role, stores=[make_store()] if role == Role.MANAGER else None)
    post_form(other, "/login", {"email": user.email, "password": PASSWORD})
    token = csrf_token_from(other.get("/settings").get_data(as_text=True))
    for url in GETS:
        assert other.get(url).status_code == 403, url
    for url, data in POSTS:
        response = other.post(url, data={**data, "csrf_token": token, "version": "1"})
        assert response.status_code == 403, url
    survey = survey_row(db_session, "seasonal")
    assert survey.draft_revision == 1 and survey.draft is not None


def test_anonymous_visitors_are_sent_to_sign_in(client, app, seasonal):
    other = app.test_client()
    for url in GETS:
        response = other.get(url)
        assert response.status_code == 302 and "/login" in response.location, url


def test_an_admin_may_use_the_editor(client, make_user, login_as, db_session):
    login_as(make_user(Role.ADMIN))
    assert create(client).status_code == 302
    assert page_of(client, DRAFT)
