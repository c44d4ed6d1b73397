"""A region's targeting rules follow it when it is renamed, and a region a rule names cannot
be deleted: its stores keep their survey."""

from __future__ import annotations

from sqlalchemy import select

from portal.models import Region, Role, TargetRule
from surveys.targeting import Rule
from tests.conftest import post_form
from tests.portal.targeting.conftest import EN


def test_renaming_a_region_renames_it_on_its_rules_and_deleting_it_is_refused(
    client, db_session, chain, add_rule, make_user, login_as
):
    rule = add_rule(Rule(None, chain.survey.id, region="西北"))
    login_as(make_user(Role.ADMIN))
    north_west = db_session.scalars(select(Region).where(Region.name == "西北")).one()
    rename = f"/admin/regions/{north_west.id}/rename"
    assert post_form(client, rename, {"name": "西北区"}, page="/admin/regions").status_code == 302
    db_session.refresh(rule)
    assert rule.region == "西北区"
    chain.urumqi.region = "华东"  # the region is left with no store, only the rule
    db_session.flush()
    delete = f"/admin/regions/{north_west.id}/delete"
    refused = post_form(client, delete, {}, page="/admin/regions", headers=EN)
    assert refused.status_code == 409
    assert "1 targeting rule(s) name region 西北区" in refused.get_data(as_text=True)
    assert db_session.scalar(select(TargetRule.region).where(TargetRule.id == rule.id)) == "西北区"
