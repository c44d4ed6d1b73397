"""The versions pages: the list with what each version collected, one version with its
changes, copying a version into the draft (never changing the version)."""

from __future__ import annotations

import copy
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.db import utcnow, writer
from portal.models import AuditEntry, Role, Survey, SurveyVersion
from portal.survey_editor.drafts import DraftChanged, DraftExists, start_draft
from portal.versions import default_survey
from surveys.loader import LIBRARY, read_yaml
from tests.conftest import add_store_with_cashier, csrf_token_from
from tests.portal.survey_editor.concurrency import wait_for_a_lock_wait
from tests.portal.survey_editor.published import (
    SEASONAL_KEY,
    add_seasonal_survey,
    hidden_fields,
    publish_version,
    seasonal_first,
)

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def cx(make_user):
    return make_user(Role.CX, name="顾客体验 周敏")


@pytest.fixture
def seasonal(db_session, cx):
    return add_seasonal_survey(db_session, by=cx)


def receipt_document():
    return read_yaml(LIBRARY / "receipt.yaml")


def test_the_versions_page_lists_each_version_with_what_it_collected(
    client, login_as, cx, db_session, make_store, make_receipt, make_response
):
    store = make_store()
    make_response(store)  # asks version 1, answered
    make_receipt(store, None)  # asks version 1, not answered
    survey = default_survey(db_session)
    second = receipt_document()
    second["title"]["en"] = "Your visit"
    publish_version(db_session, survey, second, number=2, series=2, by=cx)
    make_receipt(store, None)  # asks version 2
    login_as(cx)
    page = client.get("/surveys/receipt/versions", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row2 = html[html.index('id="version-2"') :]
    row1 = html[html.index('id="version-1"') :]
    # Newest first; receipts then answers; the publisher by name; the series break marked.
    assert html.index('id="version-2"') < html.index('id="version-1"')
    assert "顾客体验 周敏" in row2[: row2.index("</tr>")]
    assert "new series" in row2[: row2.index("</tr>")]
    assert "new series" not in row1[: row1.index("</tr>")]
    assert "not recorded" in row1[: row1.index("</tr>")]  # published by the migration
    cells1 = row1[: row1.index("</tr>")]
    assert '<td class="num">2</td>\n      <td class="num">1</td>' in cells1
    cells2 = row2[: row2.index("</tr>")]
    assert '<td class="num">1</td>\n      <td class="num">0</td>' in cells2
    version1 = db_session.scalars(
        select(SurveyVersion).where(SurveyVersion.survey_id == survey.id, SurveyVersion.number == 1)
    ).one()
    assert version1.content_hash[:12] in cells1


def test_the_versions_page_costs_the_same_queries_however_many_versions(
    client, login_as, cx, seasonal, db_session, count_queries
):
    login_as(cx)
    url = f"/surveys/{SEASONAL_KEY}/versions"
    client.get(url)
    before = count_queries()
    assert client.get(url).status_code == 200
    with_two = count_queries() - before
    for number in (3, 4, 5):
        document = seasonal_first()
        document["title"]["en"] = f"Spring shopping survey {number}"
        publish_version(db_session, seasonal, document, number=number, by=cx)
    before = count_queries()
    assert client.get(url).status_code == 200
    # The receipts and answers of all versions are two grouped counts, not one per version.
    assert count_queries() - before == with_two


def test_the_first_version_says_it_is_the_first(client, login_as, cx):
    login_as(cx)
    html = client.get("/surveys/receipt/versions/1", headers=EN).get_data(as_text=True)
    assert "This is the first version of the survey" in html
    # Both languages of every question, each marked with its language.
    assert '<td lang="zh-CN"><bdi>您有多大可能向朋友或同事推荐本店？</bdi></td>' in html
    assert "How likely are you to recommend this store" in html


def test_a_later_version_shows_its_changes_in_words(client, login_as, cx, seasonal):
    login_as(cx)
    page = client.get(f"/surveys/{SEASONAL_KEY}/versions/2", headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    changes = html[html.index('id="changes"') : html.index('id="copy"')]
    assert "Changes against version 1" in changes
    assert "Survey title, in English" in changes
    assert "Spring shopping survey 2" in changes
    assert "Question removed (it was number 4)" in changes and "<code>wish</code>" in changes
    assert "Question added as number" in changes and "<code>bag</code>" in changes
    assert "Question moved from number" in changes and "<code>comment</code>" in changes
    # The Chinese rewording is quoted in Chinese, marked as such, on the English page.
    assert '<q lang="zh-CN"><bdi>您今天是如何结账的？</bdi></q>' in changes
    assert "Kind of question: single choice → multiple choice" in " ".join(changes.split())
    assert "multiple choice" in changes
    assert "Choice added as number 3" in changes and "<code>scan_go</code>" in changes
    assert "Choice removed" in changes and "<code>app</code>" in changes
    assert "Order of the choices" in changes
    assert "shown when all of these hold" in changes
    assert "the store is one of these: convenience store, supermarket" in changes
    assert "Heading, in English" in changes


def test_the_changes_are_said_in_chinese_on_a_chinese_page(client, login_as, cx, seasonal):
    login_as(cx)
    html = client.get(f"/surveys/{SEASONAL_KEY}/versions/2", headers=ZH).get_data(as_text=True)
    assert "与第 1 版相比的更改" in html
    assert "删除了题目（原为第 4 题）" in html
    # Chinese separators between rules and between items.
    assert "的回答不高于 3；门店类型为以下之一：便利店、超市" in html
    assert "选项顺序：" in html


@pytest.mark.parametrize(
    "url",
    [
        "/surveys/nosuch/versions",
        "/surveys/nosuch/versions/1",
        "/surveys/receipt/versions/2",
        "/surveys/receipt/versions/0",
    ],
)
def test_unknown_surveys_and_versions_are_404(client, login_as, cx, url):
    login_as(cx)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HR, Role.REVIEWER, Role.MYSTERY])
def test_only_survey_owners_see_versions(client, login_as, make_user, make_store, role):
    user = make_user(role, stores=[make_store()] if role == Role.MANAGER else None)
    login_as(user)
    for url in ("/surveys/receipt/versions", "/surveys/receipt/versions/1"):
        assert client.get(url).status_code == 403
    assert client.post("/surveys/receipt/versions/1/copy").status_code in (400, 403)


def test_admins_are_survey_owners_too(client, login_as, make_user):
    login_as(make_user(Role.ADMIN))
    assert client.get("/surveys/receipt/versions").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/surveys/receipt/versions/1")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- copying --------------------------------------------------------------------------------


def send_copy(client, key, number, **data):
    """Send the copy form as the version page shows it (its hidden fields included)."""
    html = client.get(f"/surveys/{key}/versions/{number}", headers=EN).get_data(as_text=True)
    fields = hidden_fields(html)
    return client.post(
        f"/surveys/{key}/versions/{number}/copy", data={**fields, **data}, headers=EN
    )


def test_copying_a_version_makes_it_the_draft(client, login_as, cx, seasonal, db_session):
    login_as(cx)
    response = send_copy(client, SEASONAL_KEY, 1)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/surveys/{SEASONAL_KEY}/draft"
    db_session.refresh(seasonal)
    version1 = db_session.scalars(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == seasonal.id, SurveyVersion.number == 1
        )
    ).one()
    assert seasonal.draft == version1.definition
    assert seasonal.draft_revision == 1
    assert seasonal.draft_updated_by_user_id == cx.id
    assert seasonal.draft_updated_at is not None
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "survey.version_copied")
    ).one()
    assert entry.subject_id == SEASONAL_KEY
    assert entry.details == {"version_number": 1, "draft_replaced": False}


def test_a_draft_is_not_replaced_unless_asked(client, login_as, cx, seasonal, db_session):
    seasonal.draft = {"key": SEASONAL_KEY, "note": "work in progress"}
    seasonal.draft_revision = 4
    db_session.flush()
    login_as(cx)
    refused = send_copy(client, SEASONAL_KEY, 1)
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "already has a draft" in html and "Replace the current draft" in html
    db_session.refresh(seasonal)
    assert seasonal.draft == {"key": SEASONAL_KEY, "note": "work in progress"}
    assert seasonal.draft_revision == 4
    replaced = send_copy(client, SEASONAL_KEY, 1, replace_draft="y")
    assert replaced.status_code == 302
    db_session.refresh(seasonal)
    assert seasonal.draft["title"] == seasonal_first()["title"]
    assert seasonal.draft_revision == 5
    details = db_session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "survey.version_copied")
    ).one()
    assert details["draft_replaced"] is True


def test_a_copy_based_on_a_stale_page_is_refused(client, login_as, cx, seasonal, db_session):
    login_as(cx)
    html = client.get(f"/surveys/{SEASONAL_KEY}/versions/1").get_data(as_text=True)
    # A colleague saves a draft after the page was shown.
    seasonal.draft = {"key": SEASONAL_KEY, "note": "colleague's work"}
    seasonal.draft_revision += 1
    db_session.flush()
    refused = client.post(
        f"/surveys/{SEASONAL_KEY}/versions/1/copy",
        data={"csrf_token": csrf_token_from(html), "version": "0", "replace_draft": "y"},
        headers=EN,
    )
    assert refused.status_code == 409
    assert "Someone else changed this draft" in refused.get_data(as_text=True)
    db_session.refresh(seasonal)
    assert seasonal.draft == {"key": SEASONAL_KEY, "note": "colleague's work"}
    # The page shown again carries the current revision: a second try applies.
    again = client.post(
        f"/surveys/{SEASONAL_KEY}/versions/1/copy",
        data={
            "csrf_token": csrf_token_from(refused.get_data(as_text=True)),
            "version": "1",
            "replace_draft": "y",
        },
    )
    assert again.status_code == 302


def test_copying_needs_a_csrf_token(client, login_as, cx, seasonal, db_session):
    login_as(cx)
    response = client.post(f"/surveys/{SEASONAL_KEY}/versions/1/copy", data={"version": "0"})
    assert response.status_code == 400
    db_session.refresh(seasonal)
    assert seasonal.draft is None


def test_copying_an_unknown_version_is_404(client, login_as, cx, seasonal):
    login_as(cx)
    response = send_copy(client, SEASONAL_KEY, 1)
    assert response.status_code == 302
    html = client.get(f"/surveys/{SEASONAL_KEY}/versions/1").get_data(as_text=True)
    missing = client.post(
        f"/surveys/{SEASONAL_KEY}/versions/9/copy",
        data={"csrf_token": csrf_token_from(html), "version": "1"},
    )
    assert missing.status_code == 404


def stored_row(session, version_id):
    """The version's definition as the database holds it (text, not parsed) and its hash."""
    return session.execute(
        text("SELECT CAST(definition AS TEXT), content_hash FROM survey_versions WHERE id = :id"),
        {"id": version_id},
    ).one()


def test_copying_then_editing_the_draft_leaves_the_version_byte_identical(
    client, login_as, cx, seasonal, db_session
):
    version = db_session.scalars(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == seasonal.id, SurveyVersion.number == 2
        )
    ).one()
    stored_before = stored_row(db_session, version.id)
    login_as(cx)
    assert send_copy(client, SEASONAL_KEY, 2).status_code == 302
    db_session.refresh(seasonal)
    # The draft is edited in place, as an editor would (a JSON document it owns).
    seasonal.draft["title"]["en"] = "Summer shopping survey"
    seasonal.draft["questions"].pop()
    seasonal.draft = copy.deepcopy(seasonal.draft)
    db_session.flush()
    assert stored_row(db_session, version.id) == stored_before
    db_session.expire(version)
    assert version.definition["title"]["en"] == "Spring shopping survey 2"


def test_two_copies_at_once_never_lose_a_draft(fresh_engine):
    """Two owners copy different versions at the same moment, each from a page showing
    no draft: one copy becomes the draft, the other is refused; neither is half-applied."""
    with Session(fresh_engine) as session, session.begin():
        add_store_with_cashier(session)
        survey = add_seasonal_survey(session)
        survey_id = survey.id
    writes = writer(fresh_engine)
    outcomes: list[str] = []
    copied = threading.Event()

    def copy_as(number: int, gate: threading.Event | None) -> None:
        with Session(writes, expire_on_commit=False) as session:
            try:
                with session.begin():
                    found = session.get(Survey, survey_id)
                    version = session.scalars(
                        select(SurveyVersion).where(
                            SurveyVersion.survey_id == survey_id, SurveyVersion.number == number
                        )
                    ).one()
                    start_draft(
                        session, found, source=version, replace=False, expected_revision=0,
                        actor=Actor("cli"), now=utcnow() + timedelta(seconds=number),
                    )  # fmt: skip
                    if gate is not None:
                        # Hold the copy uncommitted while the other one starts.
                        copied.set()
                        gate.wait(timeout=30)
                outcomes.append(f"copied {number}")
            except (DraftChanged, DraftExists):
                # Which, depends on when the second saw the first's draft: a refusal.
                outcomes.append(f"refused {number}")

    gate = threading.Event()
    first = threading.Thread(target=copy_as, args=(1, gate))
    first.start()
    assert copied.wait(timeout=30)
    second = threading.Thread(target=copy_as, args=(2, None))
    second.start()
    wait_for_a_lock_wait(fresh_engine)
    gate.set()
    first.join()
    second.join()
    assert sorted(outcomes) == ["copied 1", "refused 2"]
    with Session(fresh_engine) as session:
        found = session.get(Survey, survey_id)
        assert found.draft_revision == 1
        version = session.scalars(
            select(SurveyVersion).where(
                SurveyVersion.survey_id == survey_id, SurveyVersion.number == 1
            )
        ).one()
        assert found.draft == version.definition
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1
