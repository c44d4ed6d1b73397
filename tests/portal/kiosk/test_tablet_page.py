"""The tablet's survey page: the survey a receipt issued now at its store would ask, in a
layout with no way out of /kiosk, the language switch kept to the page; without
JavaScript it is sent as a plain form (CSRF token, answers kept on a refusal); the service
worker is served with its cache named after the survey version."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.audit import CLI
from portal.db import utcnow
from portal.models import Channel, Response, StoreDailyRollup
from portal.survey_editor.target_rules import create_target_rule
from surveys.targeting import Rule
from tests.conftest import csrf_token_from
from tests.portal.kiosk.conftest import EN, page_version
from tests.portal.targeting.factories import make_published_survey


def links_out(html: str) -> list[str]:
    """Links and form targets that leave /kiosk (static files aside)."""
    targets = re.findall(r'(?:href|action)="([^"]*)"', html)
    return [t for t in targets if not t.startswith(("/kiosk", "/static/", "?"))]


def test_the_page_shows_the_stores_current_survey_with_no_way_out(client, kiosk):
    response = client.get("/kiosk/", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert 'name="nps"' in html and 'name="receipt_code"' in html and 'name="csrf_token"' in html
    assert "人民广场店" in html and 'lang="en"' in html
    assert links_out(html) == []
    assert 'href="/kiosk/?lang=zh_CN"' in html
    # Chinese by ?lang=, for this page only: the next shopper starts in the tablet's language.
    chinese = client.get("/kiosk/?lang=zh_CN", headers=EN).get_data(as_text=True)
    assert '<html lang="zh-CN">' in chinese
    assert '<html lang="en">' in client.get("/kiosk/", headers=EN).get_data(as_text=True)
    # Every word the script shows comes from the page.
    assert 'data-waiting-other="{n} answers waiting to be sent"' in html


def target_store(db_session, store) -> None:
    """A survey of its own for ``store`` from now on."""
    survey = make_published_survey(db_session, "counter")
    rule = Rule(None, survey.id, store_id=store.id)
    create_target_rule(db_session, rule, actor=CLI, now=utcnow())
    db_session.flush()


def test_the_page_asks_the_survey_targeted_at_its_store(client, kiosk, store, db_session):
    default_version = page_version(client)
    target_store(db_session, store)
    targeted = page_version(client)
    assert targeted != default_version
    worker = client.get("/kiosk/sw.js")
    assert worker.headers["Cache-Control"] == "no-cache"
    assert worker.mimetype == "text/javascript"
    script = worker.get_data(as_text=True)
    assert '"/kiosk/?lang=en"' in script and '"/static/kiosk/kiosk.js"' in script


def test_a_new_survey_version_renames_the_offline_cache(client, kiosk, store, db_session):
    def cache_name() -> str:
        return re.search(r'CACHE = PREFIX \+ "(\w+)"', client.get("/kiosk/sw.js").text)[1]

    before = cache_name()
    assert cache_name() == before
    target_store(db_session, store)
    assert cache_name() != before


def _post(client, data, **kwargs):
    page = client.get("/kiosk/", **kwargs).get_data(as_text=True)
    return client.post("/kiosk/", data={"csrf_token": csrf_token_from(page), **data}, **kwargs)


def test_without_javascript_the_form_is_sent_and_thanked(client, kiosk, db_session):
    response = _post(client, {"nps": "10", "csat": "5", "comment": "很好"}, headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Thank you!" in html and 'http-equiv="refresh"' in html and links_out(html) == []
    answer = db_session.scalars(select(Response)).one()
    assert (answer.channel, answer.kiosk_id, answer.nps) == (Channel.KIOSK, kiosk.id, 10)
    assert len(answer.client_id) == 36 and answer.receipt_id is None


def test_without_javascript_a_wrong_code_keeps_the_answers(client, kiosk, db_session):
    response = _post(client, {"nps": "7", "csat": "4", "receipt_code": "00000-00000"}, headers=EN)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "We found no receipt with this code." in html
    assert 'value="00000-00000"' in html and re.search(r'value="7"\s+checked', html)
    assert db_session.scalars(select(Response)).all() == []


def test_without_javascript_a_typed_code_ties_the_answer(
    client, kiosk, store, make_receipt, db_session
):
    issued = make_receipt(store, None, now=utcnow() - timedelta(minutes=5))
    response = _post(client, {"nps": "9", "csat": "5", "receipt_code": issued.receipt.short_code})
    assert response.status_code == 200
    answer = db_session.scalars(select(Response)).one()
    assert answer.receipt_id == issued.receipt.id and answer.channel == Channel.KIOSK
    rows = db_session.scalars(select(StoreDailyRollup.channel)).all()
    assert "kiosk" in rows


def test_without_javascript_a_missing_answer_is_marked(client, kiosk, db_session):
    response = _post(client, {"csat": "5"}, headers=EN)
    assert response.status_code == 400
    assert "Please answer this question." in response.get_data(as_text=True)
    assert db_session.scalars(select(Response)).all() == []


def test_the_form_needs_its_csrf_token(client, kiosk, db_session):
    response = client.post("/kiosk/", data={"nps": "9", "csat": "5"}, headers=EN)
    assert response.status_code == 400
    assert links_out(response.get_data(as_text=True)) == []
    assert db_session.scalars(select(Response)).all() == []
