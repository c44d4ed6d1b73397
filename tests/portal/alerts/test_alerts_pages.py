"""Alert pages: rules for admin and CX (bad input refused on its field), a recipient's
home page and /alerts (scoped to their stores), dismissing, the check-alerts command."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

from sqlalchemy import select

from portal.alerts.evaluate import evaluate_alerts
from portal.models import Alert, AlertRule, Role
from tests.conftest import SETTINGS, csrf_token_from, post_form
from tests.portal.alerts.test_alerts_evaluate import JUDGED, NOW, put_week, rule

EN = {"Accept-Language": "en"}
GOOD = {
    "name": "NPS floor",
    "metric": "nps",
    "kind": "threshold",
    "threshold": "20",
    "scope": "chain",
    "active": "y",
}


def test_admin_adds_a_rule_and_sees_it_listed(client, db_session, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    response = post_form(client, "/alerts/rules", GOOD, headers=EN)
    assert response.status_code == 302
    [saved] = db_session.scalars(select(AlertRule)).all()
    assert (saved.metric, saved.kind, saved.threshold, saved.store_id) == (
        "nps",
        "threshold",
        20.0,
        None,
    )
    html = client.get("/alerts/rules", headers=EN).get_data(as_text=True)
    assert "NPS floor" in html and "Every store of the chain" in html


def test_cx_may_add_a_store_rule_and_a_manager_may_not_open_rules(
    client, db_session, make_store, make_user, login_as
):
    store = make_store()
    login_as(make_user(Role.CX))
    data = {**GOOD, "kind": "control_chart", "threshold": "", "scope": f"store:{store.id}"}
    assert post_form(client, "/alerts/rules", data).status_code == 302
    saved = db_session.scalars(select(AlertRule)).one()
    assert saved.store_id == store.id and saved.threshold is None
    client.get("/logout")
    login_as(make_user(Role.MANAGER, stores=[store]))
    assert client.get("/alerts/rules").status_code == 403


def test_bad_rules_are_refused_on_their_field_and_nothing_is_written(
    client, db_session, make_user, login_as
):
    login_as(make_user(Role.ADMIN))
    cases = [
        ({"threshold": ""}, "threshold-errors", "A threshold rule needs a threshold."),
        ({"threshold": "150"}, "threshold-errors", "between -100.0 and 100.0"),
        ({"threshold": "abc"}, "threshold-errors", ""),
        (
            {"metric": "mystery_score", "kind": "control_chart"},
            "kind-errors",
            "A control chart needs a weekly share",
        ),
        ({"metric": "bogus"}, "metric-errors", ""),
        ({"scope": "store:999999"}, "scope-errors", ""),
        ({"name": ""}, "name-errors", ""),
    ]
    for change, errors_id, words in cases:
        response = post_form(client, "/alerts/rules", {**GOOD, **change}, headers=EN)
        html = response.get_data(as_text=True)
        assert response.status_code == 400, change
        assert f'id="{errors_id}"' in html, change
        assert words in html
    assert db_session.scalars(select(AlertRule)).all() == []


def test_a_rule_form_without_its_csrf_token_is_refused(client, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    assert client.post("/alerts/rules", data=GOOD).status_code == 400


def test_of_two_edits_from_the_same_page_the_second_is_told_and_the_first_kept(
    client, db_session, make_user, login_as
):
    login_as(make_user(Role.ADMIN))
    post_form(client, "/alerts/rules", GOOD)
    saved = db_session.scalars(select(AlertRule)).one()
    page = client.get(f"/alerts/rules/{saved.id}").get_data(as_text=True)
    token = csrf_token_from(page)
    loaded = unescape(page.split('name="loaded" type="hidden" value="')[1].split('"')[0])
    first = {**GOOD, "threshold": "10", "loaded": loaded, "csrf_token": token}
    second = {**GOOD, "threshold": "30", "loaded": loaded, "csrf_token": token}
    assert client.post(f"/alerts/rules/{saved.id}", data=first).status_code == 302
    refused = client.post(f"/alerts/rules/{saved.id}", data=second, headers=EN)
    assert refused.status_code == 409
    assert "Someone changed this rule meanwhile" in refused.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(AlertRule, saved.id).threshold == 10.0


def test_deleting_a_rule_removes_it(client, db_session, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    post_form(client, "/alerts/rules", GOOD)
    saved = db_session.scalars(select(AlertRule)).one()
    url = f"/alerts/rules/{saved.id}"
    assert post_form(client, f"{url}/delete", {}, page=url).status_code == 302
    assert db_session.scalars(select(AlertRule)).all() == []


def _two_stores_with_an_alert_at_a(app, db_session, make_store, make_user):
    a, b = make_store("A-01", region="华东"), make_store("B-01", region="华南")
    manager_a = make_user(Role.MANAGER, stores=[a])
    manager_b = make_user(Role.MANAGER, stores=[b])
    rule(db_session, "nps", "threshold", 20.0)
    put_week(db_session, a, JUDGED, n=40, detractors=20)
    with app.app_context():
        [alert] = evaluate_alerts(db_session, SETTINGS, now=NOW)
    return alert, manager_a, manager_b


def test_home_shows_the_alert_to_its_manager_until_dismissed(
    app, client, db_session, make_store, make_user, login_as
):
    alert, manager_a, _b = _two_stores_with_an_alert_at_a(app, db_session, make_store, make_user)
    login_as(manager_a)
    home = client.get("/home", headers=EN).get_data(as_text=True)
    assert f'id="alert-{alert.id}"' in home
    assert '<a href="/alerts">Alerts</a>' in home  # every page's menu leads to the list
    assert "week of 2026-05-11 to 2026-05-17" in home
    assert "below the threshold 20.0" in home and 'href="/stores/A-01"' in home
    response = post_form(client, f"/alerts/{alert.id}/dismiss", {}, page="/home")
    assert response.status_code == 302
    assert f'id="alert-{alert.id}"' not in client.get("/home").get_data(as_text=True)
    # Still on the alerts list, marked dismissed.
    listed = client.get("/alerts", headers=EN).get_data(as_text=True)
    assert f'id="alert-{alert.id}"' in listed and "Dismissed" in listed


def test_a_manager_of_another_store_never_sees_the_alert(
    app, client, db_session, make_store, make_user, login_as
):
    alert, _a, manager_b = _two_stores_with_an_alert_at_a(app, db_session, make_store, make_user)
    login_as(manager_b)
    assert f'id="alert-{alert.id}"' not in client.get("/home").get_data(as_text=True)
    assert f'id="alert-{alert.id}"' not in client.get("/alerts").get_data(as_text=True)
    assert post_form(client, f"/alerts/{alert.id}/dismiss", {}, page="/home").status_code == 404


def test_chain_wide_roles_see_every_alert_on_the_list(
    app, client, db_session, make_store, make_user, login_as
):
    alert, _a, _b = _two_stores_with_an_alert_at_a(app, db_session, make_store, make_user)
    login_as(make_user(Role.HR))
    html = client.get("/alerts", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert f'id="alert-{alert.id}"' in html and "低于阈值" in html
    assert "关闭此预警" not in html  # not sent to HR: nothing to dismiss


def test_check_alerts_command_raises_once_and_says_so(runner, db_session, make_store, make_user):
    store = make_store("A-01")
    make_user(Role.MANAGER, stores=[store])
    rule(db_session, "nps", "threshold", 20.0)
    put_week(db_session, store, JUDGED, n=40, detractors=20)
    db_session.commit()
    first = runner.invoke(args=["check-alerts", "--now", "2026-05-20T04:00"])
    assert first.exit_code == 0, first.output
    assert "A-01\tnps\t2026-05-11\tthreshold" in first.output and "1 new alert(s)." in first.output
    again = runner.invoke(args=["check-alerts", "--now", (NOW + timedelta(hours=1)).isoformat()])
    assert "0 new alert(s)." in again.output
    assert len(db_session.scalars(select(Alert)).all()) == 1
    bad = runner.invoke(args=["check-alerts", "--now", "yesterday"])
    assert bad.exit_code != 0 and "ISO 8601 time" in bad.output
