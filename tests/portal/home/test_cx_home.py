"""A survey owner's home: drafts waiting to be published, A/B tests running today, rules
ending within a week, each linking to where the work is done; in Chinese and English."""

from __future__ import annotations

from datetime import timedelta

from portal.calendar import chain_today
from portal.db import utcnow
from portal.models import Role
from surveys.targeting import Rule, Split
from tests.portal.home.test_home_languages import ENGLISH, ZH, visible_text
from tests.portal.targeting.factories import add_survey, publish_version

EN = {"Accept-Language": "en"}


def section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def test_a_new_owner_has_nothing_waiting(client, make_user, login_as):
    login_as(make_user(Role.CX))
    page = client.get("/home", headers=EN).get_data(as_text=True)
    assert 'id="nothing-waiting"' in page
    assert 'href="/surveys/targeting"' in page and 'href="/surveys"' in page


def test_the_owners_home_lists_drafts_tests_and_rules_ending(
    client, db_session, make_user, make_store, login_as
):
    from portal.audit import CLI
    from portal.survey_editor.target_rules import create_target_rule

    owner = make_user(Role.CX, name="陈静")
    store = make_store("SH-101", format="convenience")
    survey = add_survey(db_session, "convenience", draft=True)
    survey.draft_updated_at, survey.draft_updated_by_user_id = utcnow(), owner.id
    v1, v2 = publish_version(db_session, survey), publish_version(db_session, survey)
    today = chain_today(db_session, utcnow())

    def add(rule: Rule) -> int:
        return create_target_rule(db_session, rule, actor=CLI, now=utcnow()).id

    test = add(Rule(None, survey.id, store_format="convenience", split=Split(v1.id, v2.id, 30)))
    ending = add(Rule(None, survey.id, store_id=store.id, ends_on=today + timedelta(days=3)))
    later = add(Rule(None, survey.id, region="华东", ends_on=today + timedelta(days=10)))
    db_session.flush()
    login_as(owner)

    page = client.get("/home", headers=EN).get_data(as_text=True)
    assert 'id="nothing-waiting"' not in page
    drafts = section(page, "drafts")
    assert "Survey convenience 2" in drafts and "by <bdi>陈静</bdi>" in drafts
    assert "latest published: version 2" in drafts
    tests = section(page, "ab-tests")
    assert f'href="/surveys/targeting/{test}/edit"' in tests
    assert "version 1 to 70 %, version 2 to 30 %" in tests
    assert "format: convenience store" in tests and f"since {today}" in tests
    rules_ending = section(page, "rules-ending")
    assert f'href="/surveys/targeting/{ending}/edit"' in rules_ending
    assert f"Last day {today + timedelta(days=3)}, in 3 days" in rules_ending
    assert f"/surveys/targeting/{later}/edit" not in rules_ending

    chinese = client.get("/home", headers=ZH).get_data(as_text=True)
    text = visible_text(chinese)
    assert "等待发布的草稿" in text and "进行中的 A/B 测试" in text
    assert ENGLISH.findall(text) == []
