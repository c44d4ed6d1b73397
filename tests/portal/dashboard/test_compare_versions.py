"""The A/B comparison of two versions: NPS and CSAT with the dashboards' tests, significance
only when p < alpha, custom questions side by side, and managers kept to their stores."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from scipy.stats import norm

from portal.db import utcnow
from portal.models import Role
from tests.portal.dashboard.custom_answers import answer, publish_version, survey_document

EN = {"Accept-Language": "en"}


def days_ago(days):
    return utcnow() - timedelta(days=days)


@pytest.fixture
def versions(db_session):
    """Versions 2 and 3 of the default survey, both with the custom questions (an A/B test
    of two titles, one scoring series)."""
    v2 = publish_version(db_session, survey_document(), number=2, published_at=days_ago(40))
    v3 = publish_version(
        db_session, survey_document(title_en="Tell us!"), number=3, published_at=days_ago(39)
    )
    return v2, v3


def give(db_session, make_response, store, version, scores, self_checkout=None):
    """One answer per (nps, csat) pair to ``version``, yesterday."""
    for nps, csat in scores:
        response = make_response(store, nps=nps, csat=csat, now=days_ago(1))
        answer(
            db_session,
            response,
            version,
            {} if self_checkout is None else {"self_checkout": self_checkout},
        )


def cell(html, row_id):
    start = html.index(f'id="{row_id}"')
    return html[start : html.index("</tr>", start)]


def test_a_clear_difference_is_significant_with_its_p(
    client, db_session, make_store, make_response, make_user, login_as, versions
):
    v2, v3 = versions
    store = make_store("SH-001")
    # A: 30 promoters, 10 passives (NPS 75), all satisfied; B: 10 promoters, 10 passives,
    # 20 detractors (NPS -25), half satisfied.
    give(db_session, make_response, store, v2, [(10, 5)] * 30 + [(8, 5)] * 10, True)
    give(db_session, make_response, store, v3, [(10, 5)] * 10 + [(8, 4)] * 10 + [(2, 2)] * 20)
    login_as(make_user(Role.CX))
    html = client.get("/dashboard/compare?survey=receipt&a=2&b=3&days=30", headers=EN).text
    nps = cell(html, "compare-nps")
    assert '<span class="metric-value">75</span>' in nps
    assert '<span class="metric-value">-25</span>' in nps
    assert "n = 40" in nps
    # Adjusted Wald by hand. A: n' = 43, P' = 30.75/43, D' = 0.75/43, c = 30/43 = 0.6976744,
    # v' = (31.5/43) - c² = 0.7325581 - 0.4867496 = 0.2458085.
    # B: P' = 10.75/43, D' = 20.75/43, c = -10/43 = -0.2325581,
    # v' = 31.5/43 - 0.0540833 = 0.6784748.
    # SE = sqrt(0.2458085/43 + 0.6784748/43) = sqrt(0.0214949) = 0.1466115;
    # z = (0.6976744 + 0.2325581) / 0.1466115 = 6.34, p ~ 2e-10: significant.
    z = (30 / 43 + 10 / 43) / ((0.2458085 / 43 + 0.6784748 / 43) ** 0.5)
    assert z == pytest.approx(6.345, abs=0.01) and 2 * norm.sf(z) < 0.001
    assert "Version A significantly better than version B" in nps
    assert "p &lt; 0.001" in nps and "adjusted Wald z test" in nps
    csat = cell(html, "compare-csat")
    assert "Version A significantly better than version B" in csat  # 100 % against 50 %
    # The custom question only version A's answers had: both columns, B with n = 0.
    table = html[html.index('id="compare-self_checkout"') :]
    assert "n = 40 / 0" in table


def test_a_small_difference_is_not_called_significant(
    client, db_session, make_store, make_response, make_user, login_as, versions
):
    v2, v3 = versions
    store = make_store("SH-001")
    # A: 20/10/10 (NPS 25); B: 18/12/10 (NPS 20). Adjusted: c_A = 10/43, c_B = 8/43,
    # v_A = (20.75 + 10.75)/43 - (10/43)² = 0.7325581 - 0.0540833 = 0.6784748,
    # v_B = (18.75 + 10.75)/43 - (8/43)² = 0.6860465 - 0.0346133 = 0.6514332,
    # z = (2/43) / sqrt((0.6784748 + 0.6514332)/43) = 0.0465116 / 0.1758637 = 0.2645,
    # p = 2 (1 - Φ(0.2645)) = 0.791: no clear difference.
    give(db_session, make_response, store, v2, [(10, 5)] * 20 + [(8, 4)] * 10 + [(3, 2)] * 10)
    give(db_session, make_response, store, v3, [(10, 5)] * 18 + [(8, 4)] * 12 + [(3, 2)] * 10)
    login_as(make_user(Role.ADMIN))
    html = client.get("/dashboard/compare?survey=receipt&a=2&b=3", headers=EN).text
    nps = cell(html, "compare-nps")
    assert "No clear difference between version A and version B" in nps
    assert "significantly" not in nps
    p = float(re.search(r"p = ([0-9.]+)", nps).group(1))
    assert p == pytest.approx(2 * norm.sf(0.2645), abs=0.001) and p >= 0.05


def test_a_manager_compares_only_their_own_stores(
    client, db_session, make_store, make_response, make_user, login_as, versions
):
    v2, v3 = versions
    mine, other = make_store("SH-001"), make_store("BJ-001")
    give(db_session, make_response, mine, v2, [(10, 5)] * 3)
    give(db_session, make_response, other, v2, [(0, 1)] * 5)
    give(db_session, make_response, other, v3, [(0, 1)] * 4)
    login_as(make_user(Role.MANAGER, stores=[mine]))
    html = client.get("/dashboard/compare?survey=receipt&a=2&b=3", headers=EN).text
    nps = cell(html, "compare-nps")
    # Only SH-001's three promoters: BJ-001's answers are not counted.
    assert '<span class="metric-value">100</span>' in nps and "n = 3" in nps
    assert "n = 0" in nps and "n = 5" not in nps and "n = 4" not in nps
    # Naming the other store is the same 404 as its store page.
    assert client.get("/dashboard/compare?survey=receipt&a=2&b=3&store=BJ-001").status_code == 404
    own = client.get("/dashboard/compare?survey=receipt&a=2&b=3&store=SH-001", headers=EN)
    assert own.status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("survey=nope&a=1&b=2", "There is no survey nope."),
        ("survey=receipt&a=x&b=2", "Version x is not a published version"),
        ("survey=receipt&a=2&b=9", "Version 9 is not a published version"),
        ("survey=receipt&a=2&b=", "is not a published version"),
        ("survey=receipt&a=2&b=2", "Choose two different versions."),
        ("survey=receipt&a=2&b=3&days=12", "Choose 7, 30, 90 or 365 days."),
    ],
)
def test_bad_comparisons_are_a_400_with_a_message(
    client, make_user, login_as, versions, query, message
):
    login_as(make_user(Role.ADMIN))
    response = client.get(f"/dashboard/compare?{query}", headers=EN)
    assert response.status_code == 400
    assert message in response.text


def test_the_form_alone_without_a_survey(client, make_user, login_as, versions):
    login_as(make_user(Role.REVIEWER))
    html = client.get("/dashboard/compare", headers=EN).text
    assert 'name="survey"' in html and 'id="compare-nps"' not in html
    login_as(make_user(Role.MYSTERY))
    assert client.get("/dashboard/compare").status_code == 403


def test_versions_of_different_scoring_series_are_flagged(
    client, db_session, make_user, login_as, versions
):
    publish_version(
        db_session,
        survey_document(title_en="New words"),
        number=4,
        published_at=days_ago(2),
        scoring_series=2,
    )
    login_as(make_user(Role.ADMIN))
    html = client.get("/dashboard/compare?survey=receipt&a=4&b=2", headers=EN).text
    assert "their scores are not comparable" in html
