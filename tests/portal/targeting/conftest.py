"""A small chain for the targeting tests: a supermarket and a convenience store in Shanghai,
a convenience store in Urumqi (two hours behind Beijing), a second survey with two
published versions, and a signed-in survey owner."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.audit import CLI
from portal.db import utcnow
from portal.models import Region, Role, Store, Survey, SurveyVersion, User
from portal.survey_editor.target_rules import create_target_rule
from surveys.targeting import Rule
from tests.portal.targeting.factories import add_survey, publish_version

EN = {"Accept-Language": "en"}


@dataclass
class Chain:
    supermarket: Store
    convenience: Store
    urumqi: Store
    closed: Store
    survey: Survey
    v1: SurveyVersion
    v2: SurveyVersion


@pytest.fixture
def chain(db_session, make_store, make_staff) -> Chain:
    for name in ("华东", "西北"):
        db_session.add(Region(name=name, created_at=utcnow()))
    supermarket = make_store("SH-001", name="徐汇店", format="supermarket")
    convenience = make_store("SH-101", name="漕溪便利店", format="convenience")
    urumqi = make_store(
        "UR-101", name="乌鲁木齐便利店", format="convenience", region="西北", timezone="Asia/Urumqi"
    )
    closed = make_store("SH-900", name="旧店", format="supermarket", closed_at=utcnow())
    for store in (supermarket, convenience, urumqi):
        make_staff(store, "S001")
    survey = add_survey(db_session, "convenience")
    v1, v2 = publish_version(db_session, survey), publish_version(db_session, survey)
    return Chain(supermarket, convenience, urumqi, closed, survey, v1, v2)


@pytest.fixture
def add_rule(db_session):
    def add(rule: Rule):
        row = create_target_rule(db_session, rule, actor=CLI, now=utcnow())
        db_session.flush()
        return row

    return add


@pytest.fixture
def owner(make_user, login_as) -> User:
    user = make_user(Role.CX)
    login_as(user)
    return user
