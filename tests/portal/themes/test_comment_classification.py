"""Comment themes in the portal: the ``classify-comment`` command's JSON, the rows written
when an answer is stored, and ``reclassify-comments`` after a taxonomy change."""

from __future__ import annotations

import json

from sqlalchemy import func, select, update

from analysis.themes import TAXONOMY_VERSION
from portal.models import CommentClassification, CommentTheme, Sentiment
from portal.themes.words import THEMES


def _themes(session, response_id):
    rows = session.execute(
        select(CommentTheme.theme, CommentTheme.sentiment).where(
            CommentTheme.response_id == response_id
        )
    ).all()
    return dict(rows)


def test_classify_comment_prints_one_json_object(runner):
    result = runner.invoke(args=["classify-comment", "排队太久了，收银员态度很差"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert set(payload) == {"themes", "sentiment"}
    themes = {item["theme"]: item["sentiment"] for item in payload["themes"]}
    assert themes["queue"] == "negative"
    assert themes["staff_attitude"] == "negative"
    assert set(themes) <= set(THEMES)
    assert payload["sentiment"] == "negative"
    assert all(set(item) == {"theme", "sentiment"} for item in payload["themes"])


def test_classify_comment_of_nothing_has_no_themes(runner):
    result = runner.invoke(args=["classify-comment", "   "])
    assert json.loads(result.output) == {"themes": [], "sentiment": "neutral"}


def test_a_stored_answer_with_a_comment_gets_its_themes(db_session, make_store, make_response):
    store = make_store()
    response = make_response(store, nps=2, csat=1, comment="没有排队，但是蔬菜不新鲜")
    themes = _themes(db_session, response.id)
    assert themes == {"queue": "positive", "product_quality": "negative"}
    row = db_session.get(CommentClassification, response.id)
    assert row is not None and row.taxonomy_version == TAXONOMY_VERSION
    assert row.sentiment in set(Sentiment)
    copied = db_session.execute(
        select(CommentTheme.store_id, CommentTheme.answered_at).where(
            CommentTheme.response_id == response.id
        )
    ).all()
    assert set(copied) == {(store.id, response.submitted_at)}


def test_an_answer_without_a_comment_gets_no_rows(db_session, make_store, make_response):
    response = make_response(make_store(), comment=None)
    assert db_session.get(CommentClassification, response.id) is None
    assert _themes(db_session, response.id) == {}


def test_reclassify_picks_up_old_versions_and_is_idempotent(
    runner, db_session, make_store, make_response
):
    store = make_store()
    old = make_response(store, comment="停车很方便")
    current = make_response(store, comment="会员积分没加上")
    make_response(store, comment=None)
    # As a taxonomy change would leave them: an old version, themes it no longer gives.
    db_session.execute(
        update(CommentClassification)
        .where(CommentClassification.response_id == old.id)
        .values(taxonomy_version=TAXONOMY_VERSION - 1)
    )
    db_session.execute(
        update(CommentTheme).where(CommentTheme.response_id == old.id).values(theme="price")
    )
    db_session.execute(
        update(CommentClassification)
        .where(CommentClassification.response_id == current.id)
        .values(sentiment="positive")
    )
    result = runner.invoke(args=["reclassify-comments"])
    assert result.exit_code == 0, result.output
    assert "1 comment(s) classified" in result.output
    assert _themes(db_session, old.id) == {"parking": "positive"}
    assert db_session.get(CommentClassification, old.id).taxonomy_version == TAXONOMY_VERSION
    # The current version's row is left as it was.
    assert db_session.get(CommentClassification, current.id).sentiment == "positive"

    again = runner.invoke(args=["reclassify-comments"])
    assert "0 comment(s) classified" in again.output

    everything = runner.invoke(args=["reclassify-comments", "--all", "--batch", "1"])
    assert "2 comment(s) classified" in everything.output
    db_session.expire_all()
    assert db_session.get(CommentClassification, current.id).sentiment == "negative"
    assert db_session.scalar(select(func.count()).select_from(CommentTheme)) == 2


def test_an_erased_comment_keeps_its_themes_and_reclassify_leaves_them(
    runner, db_session, make_store, make_response
):
    response = make_response(make_store(), comment="停车场太小了")
    db_session.execute(
        update(CommentClassification)
        .where(CommentClassification.response_id == response.id)
        .values(taxonomy_version=TAXONOMY_VERSION - 1)
    )
    response.comment = None  # as purge and erase-customer blank it
    db_session.flush()
    result = runner.invoke(args=["reclassify-comments", "--all"])
    assert "0 comment(s) classified" in result.output
    assert _themes(db_session, response.id) == {"parking": "negative"}


def test_a_serving_app_loads_the_classifier_beside_its_first_request(
    settings, connection, monkeypatch
):
    import dataclasses
    import threading

    import portal

    loaded = threading.Event()
    monkeypatch.setattr(portal, "warm_up_classifier", loaded.set)
    app = portal.create_app(dataclasses.replace(settings, testing=False), bind=connection)

    assert not loaded.wait(0.2)  # built (as for a CLI command): nothing loaded yet
    app.test_client().get("/login")
    assert loaded.wait(10)
