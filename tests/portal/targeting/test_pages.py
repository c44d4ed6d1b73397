"""The survey owner's targeting pages: the rule list, add, edit and delete with the whole
rule set checked (nothing written when refused), the coverage table, the audit entries,
and two owners saving at once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.audit import Actor
from portal.calendar import local_today
from portal.db import utcnow, writer
from portal.models import AuditEntry, Role, Store, Survey, TargetRule
from portal.survey_editor import target_rules
from portal.survey_editor.target_rules import RuleRefused, create_target_rule, fingerprint
from portal.targeting import as_rule
from portal.versions import default_survey, latest_version
from surveys.targeting import Rule, Split
from tests.conftest import PASSWORD, csrf_token_from, post_form
from tests.portal.targeting.conftest import EN
from tests.portal.targeting.factories import add_survey, make_published_survey

NEW = "/surveys/targeting/new"


def rule_form(**fields: object) -> dict[str, object]:
    """A rule for the whole chain, the survey's latest version, every day; ``fields``
    change it."""
    form: dict[str, object] = {
        "survey": "convenience",
        "scope": "chain",
        "store": "",
        "region": "",
        "store_format": "",
        "starts_on": "",
        "ends_on": "",
        "mode": "latest",
        "version_a": "",
        "version_b": "",
        "percent_b": "",
    }
    form.update(fields)
    return form


def rules(db_session) -> list[TargetRule]:
    db_session.expire_all()
    return list(db_session.scalars(select(TargetRule).order_by(TargetRule.id)))


def audit_actions(db_session) -> list[str]:
    return list(
        db_session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("target_rule.%"))
            .order_by(AuditEntry.id)
        )
    )


def page_text(response) -> str:
    return response.get_data(as_text=True)


def test_only_survey_owners_open_the_targeting_pages(client, chain, make_user, login_as):
    assert client.get("/surveys/targeting").status_code == 302  # to sign in
    login_as(make_user(Role.MANAGER, stores=[chain.supermarket]))
    for url in ("/surveys/targeting", NEW, "/surveys/targeting/coverage"):
        assert client.get(url).status_code == 403
    assert client.post(NEW, data=rule_form()).status_code in (400, 403)


@pytest.mark.parametrize("role", [Role.CX, Role.ADMIN])
def test_an_owner_adds_a_format_rule_and_sees_it_in_words(
    client, chain, db_session, make_user, login_as, role
):
    login_as(make_user(role))
    empty = page_text(client.get("/surveys/targeting", headers=EN))
    assert "No rules: every store gets the default survey." in empty
    response = post_form(
        client, NEW, rule_form(scope="format", store_format="convenience"), headers=EN
    )
    assert response.status_code == 302, page_text(response)
    (saved,) = rules(db_session)
    assert (saved.survey_id, saved.store_format, saved.store_id, saved.region) == (
        chain.survey.id,
        "convenience",
        None,
        None,
    )
    listed = page_text(client.get("/surveys/targeting", headers=EN))
    assert "format: convenience store" in listed
    assert "Survey convenience 2, its latest published version" in listed
    assert audit_actions(db_session) == ["target_rule.created"]


def test_a_form_without_its_csrf_token_is_refused(client, owner, chain, db_session):
    assert client.post(NEW, data=rule_form()).status_code == 400
    assert rules(db_session) == []


def test_a_rule_that_would_tie_is_refused_naming_stores_days_and_the_other_rule(
    client, owner, chain, db_session
):
    first = rule_form(
        scope="format", store_format="convenience", starts_on="2026-03-01", ends_on="2026-03-31"
    )
    assert post_form(client, NEW, first).status_code == 302
    default_tie = rule_form(
        survey="receipt",
        scope="format",
        store_format="convenience",
        starts_on="2026-03-15",
        ends_on="2026-04-15",
    )
    refused = post_form(client, NEW, default_tie, headers=EN)
    assert refused.status_code == 422
    text = page_text(refused)
    assert "Nothing was saved" in text
    # The two open convenience stores, the common days, and the rule already saved.
    assert "SH-101, UR-101" in text and "SH-900" not in text
    assert "2026-03-15 to 2026-03-31" in text
    assert (
        f"rule {rules(db_session)[0].id} (format: convenience store, 2026-03-01 to 2026-03-31"
        in text
    )
    assert len(rules(db_session)) == 1
    assert audit_actions(db_session) == ["target_rule.created"]
    # The same days as a store rule are another level: accepted, and it wins there.
    store_rule = dict(default_tie, scope="store", store="SH-101")
    assert post_form(client, NEW, store_rule).status_code == 302


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"starts_on": "2026-05-02", "ends_on": "2026-05-01"}, 422, "is before the first day"),
        ({"scope": "store", "store": "SH-900"}, 400, "Not a valid choice"),
        ({"scope": "store"}, 400, "Choose the store."),
        ({"scope": "region", "region": "华东"}, 302, None),
        ({"mode": "split"}, 400, "Choose version A."),
        (
            {"mode": "split", "version_a": "V1", "version_b": "V1", "percent_b": "30"},
            422,
            "two different versions",
        ),
        (
            {"mode": "split", "version_a": "V1", "version_b": "V2", "percent_b": "0"},
            400,
            "from 1 to 99",
        ),
        (
            {"mode": "split", "version_a": "V1", "version_b": "D", "percent_b": "30"},
            422,
            "must be published versions of survey",
        ),
        ({"starts_on": "2026-02-30"}, 400, "YYYY-MM-DD"),
        ({"survey": "draft-only"}, 422, "has no published version yet"),
    ],
)
def test_a_faulty_rule_gets_a_clear_message_and_nothing_is_written(
    client, owner, chain, db_session, fields, status, message
):
    add_survey(db_session, "draft-only", draft=True)
    default_version = latest_version(db_session, default_survey(db_session).id)
    ids = {"V1": str(chain.v1.id), "V2": str(chain.v2.id), "D": str(default_version.id)}
    form = rule_form(**{k: ids.get(str(v), v) for k, v in fields.items()})
    response = post_form(client, NEW, form, headers=EN)
    assert response.status_code == status, page_text(response)
    if message is not None:
        assert message in page_text(response)
        assert rules(db_session) == []
        assert audit_actions(db_session) == []


def test_an_owner_edits_a_rule_and_a_stale_edit_is_refused(
    client, owner, chain, db_session, add_rule
):
    row = add_rule(Rule(None, chain.survey.id, store_format="convenience"))
    url = f"/surveys/targeting/{row.id}/edit"
    page = page_text(client.get(url, headers=EN))
    assert 'value="convenience" selected' in page or "selected" in page
    token = csrf_token_from(page)
    seen = fingerprint(as_rule(row))
    change = rule_form(scope="format", store_format="convenience", ends_on="2026-12-31", seen=seen)
    assert client.post(url, data={"csrf_token": token, **change}).status_code == 302
    assert rules(db_session)[0].ends_on == date(2026, 12, 31)
    # A second owner's page still carries the rule as it was: refused, not overwritten.
    stale = rule_form(scope="format", store_format="supermarket", seen=seen)
    refused = client.post(url, data={"csrf_token": token, **stale}, headers=EN)
    assert refused.status_code == 409
    assert "Someone changed this rule meanwhile" in page_text(refused)
    (kept,) = rules(db_session)
    assert (kept.store_format, kept.ends_on) == ("convenience", date(2026, 12, 31))
    assert audit_actions(db_session) == ["target_rule.created", "target_rule.updated"]
    assert client.get("/surveys/targeting/999999/edit").status_code == 404


def test_an_owner_deletes_a_rule_and_its_stores_fall_back(
    client, owner, chain, db_session, add_rule
):
    row = add_rule(Rule(None, chain.survey.id, store_id=chain.convenience.id))
    url = f"/surveys/targeting/{row.id}/delete"
    stale = client.post(
        url, data={"csrf_token": csrf_token_from(page_text(client.get(url))), "seen": "0" * 16}
    )
    assert stale.status_code == 409
    assert len(rules(db_session)) == 1
    assert post_form(client, url, {"seen": fingerprint(as_rule(row))}).status_code == 302
    assert rules(db_session) == []
    assert audit_actions(db_session) == ["target_rule.created", "target_rule.deleted"]
    coverage = page_text(client.get("/surveys/targeting/coverage", headers=EN))
    assert coverage.count("no rule: the default survey") == 3


def test_the_coverage_table_says_each_open_stores_survey_today_and_on_a_day(
    client, owner, chain, db_session, add_rule
):
    add_rule(Rule(None, chain.survey.id, store_format="convenience"))
    march = date(2026, 3, 1)
    split = add_rule(
        Rule(
            None,
            chain.survey.id,
            store_id=chain.urumqi.id,
            starts_on=march,
            ends_on=march,
            split=Split(chain.v1.id, chain.v2.id, 30),
        )
    )
    today = page_text(client.get("/surveys/targeting/coverage", headers=EN))
    assert "SH-900" not in today  # closed
    shanghai_today = local_today("Asia/Shanghai", utcnow()).isoformat()
    assert shanghai_today in today
    on_day = page_text(client.get("/surveys/targeting/coverage?on=2026-03-01", headers=EN))
    urumqi = on_day[on_day.index('id="store-UR-101"') :].split("</tr>")[0]
    assert "version 1 (70 %) · version 2 (30 %)" in urumqi
    assert f"rule {split.id}" in urumqi
    supermarket = on_day[on_day.index('id="store-SH-001"') :].split("</tr>")[0]
    assert "no rule: the default survey" in supermarket
    assert client.get("/surveys/targeting/coverage?on=2026-02-30").status_code == 400


def test_the_audit_log_names_the_rule_changes(app, client, owner, chain, db_session, make_user):
    assert (
        post_form(
            client, NEW, rule_form(scope="region", region="西北", ends_on="2026-06-30")
        ).status_code
        == 302
    )
    admin = make_user(Role.ADMIN)
    reader = app.test_client()
    page = page_text(reader.get("/login"))
    reader.post(
        "/login",
        data={"csrf_token": csrf_token_from(page), "email": admin.email, "password": PASSWORD},
    )
    audit = page_text(reader.get("/admin/audit?action=target_rule.created", headers=EN))
    assert "Targeting rule added" in audit
    details = (
        "Region: <bdi>西北",
        "Last day: <bdi>2026-06-30",
        "Survey: <bdi>Survey convenience 2",
    )
    for detail in details:
        assert detail in audit


# -- two owners at once ----------------------------------------------------------------


def test_two_owners_saving_rules_that_tie_only_together_leave_exactly_one(
    fresh_engine, monkeypatch
):
    with Session(fresh_engine) as session, session.begin():
        store = Store(code="SH-101", name="便利店", format="convenience")
        session.add(store)
        session.flush()
        survey = make_published_survey(session, "convenience")
        default_id = session.scalar(select(Survey.id).where(Survey.key == "receipt"))
        survey_ids = {"a": survey.id, "b": default_id}

    # Each save waits, after reading the rule set, until the other has read it too (or
    # two seconds have passed): without the lock both would read an empty set and save.
    both_read = threading.Barrier(2, timeout=2)
    read = target_rules.load_rule_set

    def read_then_wait(session):
        found = read(session)
        try:
            both_read.wait()
        except threading.BrokenBarrierError:
            pass
        return found

    monkeypatch.setattr(target_rules, "load_rule_set", read_then_wait)
    bind = writer(fresh_engine)
    start = threading.Barrier(2, timeout=20)
    outcomes: dict[str, str] = {}

    def attempt(name: str) -> None:
        start.wait()
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                rule = Rule(None, survey_ids[name], store_format="convenience")
                create_target_rule(session, rule, actor=Actor(label=name), now=utcnow())
            outcomes[name] = "saved"
        except RuleRefused as error:
            outcomes[name] = f"refused: {error}"
        except Exception as error:  # noqa: BLE001 - any other escape is the failure shown
            outcomes[name] = f"escaped: {type(error).__name__}: {error}"

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o.split(":")[0] for o in outcomes.values()) == ["refused", "saved"], outcomes
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(TargetRule)) == 1
        assert (
            session.scalar(select(func.count()).where(AuditEntry.action == "target_rule.created"))
            == 1
        )


def test_a_rule_on_a_store_closed_since_is_flagged_but_blocks_nothing_else(
    client, owner, chain, db_session, add_rule
):
    row = add_rule(Rule(None, chain.survey.id, store_id=chain.convenience.id))
    chain.convenience.closed_at = utcnow() - timedelta(days=1)
    db_session.flush()
    listed = page_text(client.get("/surveys/targeting", headers=EN))
    assert "Store SH-101 is closed and issues no receipts" in listed
    assert (
        post_form(client, NEW, rule_form(scope="format", store_format="supermarket")).status_code
        == 302
    )
    # The faulty rule itself cannot be saved again as it is, but can be deleted.
    edit = f"/surveys/targeting/{row.id}/edit"
    again = rule_form(scope="store", store="SH-101", seen=fingerprint(as_rule(row)))
    assert post_form(client, edit, again).status_code == 422
    delete = f"/surveys/targeting/{row.id}/delete"
    assert post_form(client, delete, {"seen": fingerprint(as_rule(row))}).status_code == 302
