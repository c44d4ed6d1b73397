"""The survey owner's preview: the draft (or the latest version) at phone width in both
languages, conditions live for a chosen store format, answers checked and never recorded."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.db import utcnow
from portal.models import (
    AuditEntry,
    QuestionDailyCount,
    Response,
    ResponseAnswer,
    Role,
    Survey,
)
from tests.conftest import csrf_token_from
from tests.portal.shopper.custom_survey import custom_document, publish

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def owner(make_user, login_as):
    user = make_user(Role.CX)
    login_as(user)
    return user


@pytest.fixture
def drafted(db_session):
    """Survey "custom": version 1 has the custom questions; its draft adds one more."""
    publish(db_session, custom_document(), utcnow())
    survey = db_session.scalars(select(Survey).where(Survey.key == "custom")).one()
    draft = custom_document()
    draft["questions"].append(
        {
            "key": "parking",
            "kind": "boolean",
            "text": {"en": "Did you find a parking space?", "zh_CN": "您找到车位了吗？"},
        }
    )
    survey.draft = draft
    db_session.flush()
    return survey


def test_the_preview_shows_both_languages_side_by_side_as_phone_frames(client, owner, drafted):
    page = client.get("/surveys/custom/preview?format=convenience", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    frames = re.findall(r'<iframe src="([^"]+)"[^>]*width="390"', html)
    assert frames == [
        "/surveys/custom/preview/frame?lang=zh_CN&amp;format=convenience",
        "/surveys/custom/preview/frame?lang=en&amp;format=convenience",
    ]
    assert re.search(r'<option value="convenience" selected>convenience store</option>', html)
    assert "This is the draft" in html
    # The owner's page itself may not be framed; only the frames may, and by the portal.
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_a_frame_draws_the_draft_in_its_language_and_may_be_framed_by_the_portal_only(
    client, owner, drafted
):
    english = client.get("/surveys/custom/preview/frame?lang=en", headers=ZH)
    chinese = client.get("/surveys/custom/preview/frame?lang=zh_CN", headers=EN)
    assert "Did you find a parking space?" in english.get_data(as_text=True)
    assert "您找到车位了吗？" in chinese.get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese.get_data(as_text=True)
    for frame in (english, chinese):
        assert frame.status_code == 200
        assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
        policy = frame.headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in policy and "script-src 'self'" in policy
        html = frame.get_data(as_text=True)
        assert "nothing you send here is recorded" in html or "不会被记录" in html
        assert "/surveys/custom/preview/style.css" in html and "/static/survey.js" in html
        assert 'class="topnav">' in html and "Sign out" not in html and "退出" not in html


def test_opening_the_frames_does_not_change_the_owners_language(client, owner, drafted):
    client.get("/surveys/custom/preview/frame?lang=en", headers=ZH)
    assert '<html lang="zh-CN">' in client.get("/surveys", headers=ZH).get_data(as_text=True)


def test_the_store_format_decides_which_questions_the_frame_draws(client, owner, drafted):
    department = client.get("/surveys/custom/preview/frame?lang=en&format=department_store")
    supermarket = client.get("/surveys/custom/preview/frame?lang=en&format=supermarket")
    assert 'name="departments"' in department.get_data(as_text=True)
    assert 'name="departments"' not in supermarket.get_data(as_text=True)
    assert 'data-format="department_store"' in department.get_data(as_text=True)


def test_the_preview_style_sheet_is_the_drafts_conditions(client, owner, drafted):
    sheet = client.get("/surveys/custom/preview/style.css")
    assert sheet.mimetype == "text/css" and sheet.headers["Cache-Control"] == "no-store"
    assert "#question-checkout_ease" in sheet.get_data(as_text=True)


def test_without_a_draft_the_latest_version_is_shown(client, owner, db_session, drafted):
    drafted.draft = None
    db_session.flush()
    html = client.get("/surveys/custom/preview", headers=EN).get_data(as_text=True)
    assert "this is published version 1" in html
    frame = client.get("/surveys/custom/preview/frame?lang=en").get_data(as_text=True)
    assert 'name="self_checkout"' in frame and "parking" not in frame


def test_a_draft_that_does_not_parse_shows_the_loaders_message(client, owner, db_session, drafted):
    broken = custom_document()
    broken["questions"][0]["kind"] = "slider"
    drafted.draft = broken
    db_session.flush()
    for url in ("/surveys/custom/preview", "/surveys/custom/preview/frame?lang=en"):
        page = client.get(url, headers=EN)
        assert page.status_code == 200
        assert "unknown kind &#39;slider&#39;" in page.get_data(as_text=True)


def test_sent_answers_are_checked_and_never_recorded(client, owner, db_session, drafted):
    url = "/surveys/custom/preview/frame?lang=en&format=supermarket"
    csrf = csrf_token_from(client.get(url).get_data(as_text=True))
    audits = db_session.scalar(select(func.count()).select_from(AuditEntry))
    action = url
    answers = {
        "csrf_token": csrf,
        "nps": "9",
        "csat": "5",
        "visit_reason": "groceries",
        "self_checkout": "yes",
        "checkout_ease": "4",
        "parking": "no",
    }
    accepted = client.post(action, data=answers)
    assert accepted.status_code == 200
    assert "These answers would be accepted; nothing was recorded." in accepted.get_data(
        as_text=True
    )
    assert accepted.headers["X-Frame-Options"] == "SAMEORIGIN"
    refused = client.post(action, data={**answers, "checkout_ease": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert re.search(r'id="checkout_ease-errors"><li>Please answer this question.', html)
    assert "would be accepted" not in html
    for model in (Response, ResponseAnswer, QuestionDailyCount):
        assert db_session.scalar(select(func.count()).select_from(model)) == 0
    assert audits == db_session.scalar(select(func.count()).select_from(AuditEntry))


def test_the_frame_form_posts_back_to_the_preview(client, owner, drafted):
    html = client.get("/surveys/custom/preview/frame?lang=en&format=convenience").get_data(
        as_text=True
    )
    assert 'action="/surveys/custom/preview/frame?lang=en&amp;format=convenience"' in html


def test_answers_sent_to_the_preview_page_itself_are_checked_too(client, owner, drafted):
    csrf = csrf_token_from(client.get("/surveys/custom/preview").get_data(as_text=True))
    page = client.post(
        "/surveys/custom/preview?lang=en",
        data={"csrf_token": csrf, "nps": "9", "csat": "5", "visit_reason": "pharmacy"},
    )
    assert page.status_code == 200
    assert "These answers would be accepted; nothing was recorded." in page.get_data(as_text=True)


def test_a_sent_preview_needs_its_csrf_token(client, owner, drafted):
    for url in ("/surveys/custom/preview?lang=en", "/surveys/custom/preview/frame?lang=en"):
        assert client.post(url, data={"nps": "9"}).status_code == 400


def test_the_frames_language_is_not_remembered_as_the_owners(client, owner, db_session, drafted):
    client.get("/surveys/custom/preview/frame?lang=en", headers=ZH)
    client.get("/surveys/custom/preview/frame?lang=zh_CN", headers=EN)
    db_session.expire_all()
    assert owner.locale is None


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HR, Role.REVIEWER])
def test_only_survey_owners_may_preview(client, make_user, make_store, login_as, drafted, role):
    login_as(make_user(role, stores=[make_store()]))
    for url in (
        "/surveys/custom/preview",
        "/surveys/custom/preview/frame",
        "/surveys/custom/preview/style.css",
    ):
        assert client.get(url).status_code == 403


def test_an_admin_may_preview_and_an_unknown_survey_is_a_404(client, make_user, login_as, drafted):
    login_as(make_user(Role.ADMIN))
    assert client.get("/surveys/custom/preview").status_code == 200
    assert client.get("/surveys/nope/preview").status_code == 404
