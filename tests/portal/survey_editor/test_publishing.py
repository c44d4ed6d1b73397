"""Publishing a draft: a new immutable version, all or nothing; the scoring series; the
refusals (problems, nothing changed, a reworded scoring question); and two owners at once
(a stale draft revision, two saves, two publishes) never losing or doubling anything."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.db import utcnow, writer
from portal.errors import DomainError
from portal.models import AuditEntry, Survey, SurveyVersion
from portal.survey_editor import publishing
from portal.survey_editor.documents import Text, set_texts
from portal.survey_editor.drafts import (
    DraftChanged,
    SurveyStart,
    create_survey,
    edit_draft,
    get_survey,
)
from portal.survey_editor.drafts import start_draft as start_draft_of
from portal.survey_editor.publishing import PublishedMeanwhile, publish_draft
from portal.versions import definition_of
from tests.conftest import PASSWORD, csrf_token_from, post_form
from tests.portal.survey_editor.conftest import EN, page_of, revision_on, send, survey_row
from tests.portal.survey_editor.test_editor import add_question, create, question_data

DRAFT = "/surveys/seasonal/draft"
PUBLISH = "/surveys/seasonal/publish"
NOW = utcnow()


@pytest.fixture
def seasonal(client, owner, db_session) -> Survey:
    assert create(client, start="minimal").status_code == 302
    return survey_row(db_session, "seasonal")


def versions(db_session, key: str = "seasonal") -> list[SurveyVersion]:
    return list(
        db_session.scalars(
            select(SurveyVersion)
            .join(Survey, Survey.id == SurveyVersion.survey_id)
            .where(Survey.key == key)
            .order_by(SurveyVersion.number)
        )
    )


def publish(client: Any, **data: Any) -> Any:
    return send(client, PUBLISH, data, page=DRAFT)


def reword_nps(client: Any, en: str = "Would you recommend this shop?") -> None:
    url = "/surveys/seasonal/draft/questions/nps"
    html = page_of(client, url)
    assert 'value="How likely' in html
    data = question_data("nps", "scale_11", zh="您有多大可能向朋友或同事推荐本店？", en=en)
    data.update(low_zh="完全不可能", low_en="Not at all likely", high_zh="非常可能")
    data.update(high_en="Extremely likely", required="y")
    assert send(client, url, data, page=url).status_code == 302


def start_draft(client: Any) -> None:
    assert send(client, "/surveys/seasonal/draft/start", {}, page=DRAFT).status_code == 302


def test_publishing_freezes_the_draft_as_version_one(client, seasonal, db_session, owner):
    response = publish(client)
    assert response.status_code == 302
    (version,) = versions(db_session)
    survey = survey_row(db_session, "seasonal")
    assert (version.number, version.scoring_series, version.survey_key) == (1, 1, "seasonal")
    assert version.published_by_user_id == owner.id
    definition = definition_of(version)
    assert definition.content_hash == version.content_hash
    assert [q.key for q in definition.questions] == ["nps", "csat"]
    # The draft is gone (SQL NULL, not a JSON null) and its revision moved on.
    assert survey.draft is None and survey.draft_revision == 2
    assert (
        db_session.scalar(
            select(func.count()).where(Survey.key == "seasonal", Survey.draft.is_(None))
        )
        == 1
    )
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "survey.published")
    ).one()
    assert entry.details == {"version": 1, "scoring_series": 1}
    page = page_of(client, DRAFT)
    assert "Published version 1 (scoring series 1)." in page
    assert "Start a draft from version 1" in page


def test_a_draft_with_problems_is_not_published(client, seasonal, db_session):
    add_question(client, question_data("paid", "choice", en=""))
    response = publish(client)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This draft cannot be published yet: fix the problems listed first." in page
    assert "2 problems to fix before publishing:" in page
    assert versions(db_session) == []
    assert survey_row(db_session, "seasonal").draft is not None


def test_a_warning_does_not_stop_publishing(client, owner, db_session):
    assert create(client).status_code == 302
    assert "more than the 60 s" in page_of(client, DRAFT)
    assert publish(client).status_code == 302
    assert len(versions(db_session)) == 1


def test_an_edit_after_publishing_makes_a_new_draft_and_a_new_version(client, seasonal, db_session):
    publish(client)
    first = versions(db_session)[0]
    frozen = (first.content_hash, dict(first.definition))
    start_draft(client)
    assert survey_row(db_session, "seasonal").draft["questions"] == first.definition["questions"]
    add_question(
        client, question_data("paid", "boolean", zh="您用现金付款吗？", en="Did you pay cash?")
    )
    assert publish(client).status_code == 302
    first_again, second = versions(db_session)
    db_session.refresh(first_again)
    assert (first_again.content_hash, first_again.definition) == frozen
    assert (second.number, second.scoring_series) == (2, 1)
    assert [q["key"] for q in second.definition["questions"]] == ["nps", "csat", "paid"]


def test_no_route_edits_a_published_version(app):
    # Editing goes through the draft; version pages only read (or copy into a draft).
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/surveys") and "/versions" in rule.rule:
            assert "POST" not in (rule.methods or ()) or rule.endpoint == "surveys.copy_version"
    assert not hasattr(publishing, "edit_version")


def test_a_draft_the_same_as_a_version_is_not_published_again(client, seasonal, db_session):
    publish(client)
    start_draft(client)
    response = publish(client)
    assert response.status_code == 400
    assert "Nothing changed: this draft is the same as version 1." in response.get_data(
        as_text=True
    )
    assert len(versions(db_session)) == 1 and survey_row(db_session, "seasonal").draft is not None


def test_a_question_saved_unchanged_changes_nothing(client, seasonal, db_session):
    publish(client)
    start_draft(client)
    for key in ("nps", "csat"):
        url = f"/surveys/seasonal/draft/questions/{key}"
        html = page_of(client, url)
        data = {
            name: value
            for name, value in re.findall(r'name="([a-z_]+)" type="text" value="([^"]*)"', html)
        }
        data = {k: unescape(v) for k, v in data.items()}
        assert send(client, url, {**data, "required": "y"}, page=url).status_code == 302
    assert 'id="reworded-' not in page_of(client, DRAFT)
    response = publish(client)
    page = response.get_data(as_text=True)
    assert "Nothing changed: this draft is the same as version 1." in page


def test_rewording_a_scoring_question_needs_a_new_scoring_series(client, seasonal, db_session):
    publish(client)
    start_draft(client)
    reword_nps(client)
    assert 'id="reworded-nps"' in page_of(client, DRAFT)
    refused = publish(client)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "The wording of a scoring question changed (likelihood to recommend (NPS))" in page
    assert 'id="new_series-errors"' in page
    assert len(versions(db_session)) == 1
    assert publish(client, new_series="y").status_code == 302
    second = versions(db_session)[1]
    assert (second.number, second.scoring_series) == (2, 2)


def test_a_new_series_without_a_reworded_question_is_allowed_and_said(client, seasonal, db_session):
    publish(client)
    start_draft(client)
    add_question(client, question_data("paid", "boolean"))
    response = publish(client, new_series="y")
    assert response.status_code == 302
    assert versions(db_session)[1].scoring_series == 2
    assert "No scoring question changed, yet this version starts a new scoring series" in page_of(
        client, DRAFT
    )


def test_the_default_survey_gets_its_second_version_through_the_editor(client, owner, db_session):
    url = "/surveys/receipt/draft"
    assert send(client, "/surveys/receipt/draft/start", {}, page=url).status_code == 302
    comment = "/surveys/receipt/draft/questions/comment"
    assert (
        send(
            client,
            comment,
            {"text_zh": "还有别的吗？", "text_en": "Anything else?", "max_length": "1000"},
            page=comment,
        ).status_code
        == 302
    )
    assert send(client, "/surveys/receipt/publish", {}, page=url).status_code == 302
    assert [(v.number, v.scoring_series) for v in versions(db_session, "receipt")] == [
        (1, 1),
        (2, 1),
    ]


# -- two owners at once --------------------------------------------------------------------------


@pytest.fixture
def colleague(app, make_user, seasonal) -> Any:
    """A second survey owner with a browser of their own."""
    other = app.test_client()
    user = make_user("cx")
    post_form(other, "/login", {"email": user.email, "password": PASSWORD})
    return other


def test_a_save_based_on_an_older_revision_is_refused_and_overwrites_nothing(
    client, colleague, db_session
):
    url = "/surveys/seasonal/draft/questions/csat"
    mine = page_of(client, url)
    theirs = page_of(colleague, url)
    data = question_data("csat", "scale_5", zh="满意吗？", en="Happy?")
    assert send(colleague, url, {**data, "text_en": "Satisfied?"}, page=url).status_code == 302
    assert revision_on(mine) == revision_on(theirs) == "1"
    late = client.post(
        url, data={**data, "csrf_token": csrf_token_from(mine), "version": "1"}, headers=EN
    )
    page = late.get_data(as_text=True)
    assert late.status_code == 409
    assert "Someone else changed this draft since you opened it; here is the current one." in page
    assert "Satisfied?" in page  # the current draft
    survey = survey_row(db_session, "seasonal")
    assert survey.draft_revision == 2
    assert survey.draft["questions"][1]["text"]["en"] == "Satisfied?"


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/surveys/seasonal/draft/questions/csat/move", {"direction": "up"}),
        ("/surveys/seasonal/draft/texts", {"title_zh": "标题", "title_en": "Title"}),
        (PUBLISH, {}),
        ("/surveys/seasonal/draft/start", {}),
    ],
)
def test_every_action_on_a_stale_page_is_refused(client, colleague, db_session, url, data):
    stale = page_of(client, DRAFT)
    send(colleague, "/surveys/seasonal/draft/questions/csat/move", {"direction": "up"}, page=DRAFT)
    response = client.post(
        url, data={**data, "csrf_token": csrf_token_from(stale), "version": "1"}, headers=EN
    )
    assert response.status_code == 409
    survey = survey_row(db_session, "seasonal")
    assert survey.draft_revision == 2 and [q["key"] for q in survey.draft["questions"]] == [
        "csat",
        "nps",
    ]
    assert versions(db_session) == []


def _run_together(engine, work) -> dict[str, str]:
    """Run ``work(session, name)`` in two threads at once, each in its own transaction on
    a writing connection; the outcome of each."""
    postgres = engine.dialect.name == "postgresql"
    bind = writer(engine)
    start, both_read = threading.Barrier(2, timeout=20), threading.Barrier(2, timeout=20)
    outcomes: dict[str, str] = {}

    def attempt(name: str) -> None:
        start.wait()
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                survey = get_survey(session, "seasonal")
                # PostgreSQL lets both read the same revision; SQLite queues the second
                # writer at BEGIN, so it reads the first's result.
                if postgres:
                    both_read.wait()
                work(session, survey, name)
            outcomes[name] = "done"
        except DomainError as error:
            outcomes[name] = f"refused: {type(error).__name__}"
        except Exception as error:  # noqa: BLE001 - any other escape is the failure shown
            outcomes[name] = f"escaped: {type(error).__name__}: {error}"

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def shared_survey(fresh_engine) -> None:
    with Session(fresh_engine) as session, session.begin():
        create_survey(session, "seasonal", SurveyStart.MINIMAL, actor=Actor("cli"), now=NOW)


def test_two_saves_of_the_same_revision_keep_exactly_one(fresh_engine, shared_survey):
    def save(session: Session, survey: Survey, name: str) -> None:
        title = Text(f"标题 {name}", f"Title {name}")
        texts = {n: title for n in ("title", "intro", "thanks", "consent")}
        edit_draft(
            session,
            survey,
            lambda d: set_texts(d, texts),
            expected_revision=1,
            actor=Actor(name),
            now=NOW,
            what="texts",
        )

    outcomes = _run_together(fresh_engine, save)
    assert sorted(outcomes.values()) == ["done", "refused: DraftChanged"], outcomes
    with Session(fresh_engine) as session:
        survey = get_survey(session, "seasonal")
        winner = next(name for name, outcome in outcomes.items() if outcome == "done")
        assert survey.draft_revision == 2
        assert survey.draft["title"]["en"] == f"Title {winner}"


def test_two_publishes_of_the_same_draft_make_one_version(fresh_engine, shared_survey):
    def publish_it(session: Session, survey: Survey, name: str) -> None:
        publish_draft(
            session, survey, expected_revision=1, new_series=False, actor=Actor(name), now=NOW
        )

    outcomes = _run_together(fresh_engine, publish_it)
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["done", "refused"], outcomes
    with Session(fresh_engine) as session:
        survey = get_survey(session, "seasonal")
        numbers = session.scalars(
            select(SurveyVersion.number).where(SurveyVersion.survey_id == survey.id)
        ).all()
        assert numbers == [1] and survey.draft is None
        published = select(func.count()).where(AuditEntry.action == "survey.published")
        assert session.scalar(published) == 1


def test_a_version_number_taken_meanwhile_refuses_the_publish_and_writes_nothing(
    db_session, monkeypatch
):
    survey = create_survey(db_session, "seasonal", SurveyStart.MINIMAL, actor=Actor("a"), now=NOW)
    publish_draft(
        db_session, survey, expected_revision=1, new_series=False, actor=Actor("a"), now=NOW
    )
    start_draft_of(db_session, survey, expected_revision=2, actor=Actor("a"), now=NOW)
    edit_draft(
        db_session,
        survey,
        lambda d: set_texts(
            d, {n: Text("新", "New") for n in ("title", "intro", "thanks", "consent")}
        ),
        expected_revision=3,
        actor=Actor("a"),
        now=NOW + timedelta(minutes=1),
        what="texts",
    )
    # As if another publish had taken number 2 between reading the versions and inserting.
    monkeypatch.setattr(publishing, "next_number", lambda versions: 1)
    with pytest.raises(PublishedMeanwhile):
        publish_draft(
            db_session, survey, expected_revision=4, new_series=False, actor=Actor("a"), now=NOW
        )
    db_session.refresh(survey)
    assert survey.draft is not None and survey.draft_revision == 4
    assert db_session.scalar(select(func.count()).where(SurveyVersion.survey_id == survey.id)) == 1


def test_a_stale_revision_is_refused_by_the_operation_itself(db_session):
    survey = create_survey(db_session, "seasonal", SurveyStart.MINIMAL, actor=Actor("a"), now=NOW)
    with pytest.raises(DraftChanged):
        edit_draft(
            db_session,
            survey,
            lambda d: d,
            expected_revision=0,
            actor=Actor("a"),
            now=NOW,
            what="texts",
        )
    with pytest.raises(DraftChanged):
        publish_draft(
            db_session, survey, expected_revision=7, new_series=False, actor=Actor("a"), now=NOW
        )


def test_a_draft_may_start_from_an_older_version_of_its_own_survey(db_session):
    actor = Actor("a")
    survey = create_survey(db_session, "seasonal", SurveyStart.MINIMAL, actor=actor, now=NOW)
    first = publish_draft(
        db_session, survey, expected_revision=1, new_series=False, actor=actor, now=NOW
    ).version
    start_draft_of(db_session, survey, expected_revision=2, actor=actor, now=NOW)
    texts = {n: Text("新", "New") for n in ("title", "intro", "thanks", "consent")}
    edit_draft(
        db_session,
        survey,
        lambda d: set_texts(d, texts),
        expected_revision=3,
        actor=actor,
        now=NOW,
        what="texts",
    )
    publish_draft(db_session, survey, expected_revision=4, new_series=False, actor=actor, now=NOW)
    start_draft_of(
        db_session,
        survey,
        expected_revision=5,
        actor=actor,
        now=NOW,
        source=first,
    )
    db_session.refresh(survey)
    assert survey.draft == first.definition
    copied = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "survey.version_copied")
    ).one()
    assert copied.details == {"version_number": 1, "draft_replaced": False}
    other = create_survey(db_session, "other", SurveyStart.MINIMAL, actor=actor, now=NOW)
    other.draft = None
    db_session.flush()
    with pytest.raises(DomainError):
        start_draft_of(db_session, other, expected_revision=1, actor=actor, now=NOW, source=first)
