"""The review pages: the archive scoped to what a reader may see, the printable page and
the PDF in the reader's language (Chinese read back out of the PDF as text), and an
admin's "build again", which the audit log records."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from portal.models import AuditEntry, Region, Role
from portal.models.review import MonthlyReview
from portal.review.operations import generate_monthly_reviews
from tests.conftest import SETTINGS, post_form
from tests.portal.paper import pdf_reading

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def reviews(db_session, make_store, make_staff, make_response):
    db_session.add(Region(name="华东"))
    shop = make_store("SH-001", name="徐汇店", region="华东")
    make_store("GZ-001", name="天河店", region="华南")
    make_response(
        shop, make_staff(shop, "S001"), nps=10, csat=5, now=datetime(2026, 3, 5, 4, tzinfo=UTC)
    )
    generate_monthly_reviews(
        db_session, SETTINGS, month=date(2026, 3, 1), now=datetime(2026, 4, 1, 1, tzinfo=UTC)
    )
    by_scope = {}
    for review in db_session.scalars(select(MonthlyReview)):
        name = review.store.code if review.store else review.region.name
        by_scope[name] = review
    return by_scope


def test_a_manager_sees_their_stores_review_and_not_another(
    client, reviews, make_user, login_as, db_session
):
    shop = reviews["SH-001"].store
    login_as(make_user(Role.MANAGER, stores=[shop]))
    page = client.get("/reviews", headers=EN).get_data(as_text=True)
    assert f"/reviews/{reviews['SH-001'].id}" in page
    assert f'/reviews/{reviews["GZ-001"].id}"' not in page
    assert f'/reviews/{reviews["华东"].id}"' not in page
    assert client.get(f"/reviews/{reviews['GZ-001'].id}").status_code == 404
    assert client.get(f"/reviews/{reviews['GZ-001'].id}.pdf").status_code == 404


def test_a_region_manager_sees_the_regions_review_and_its_stores(
    client, reviews, make_user, login_as
):
    login_as(make_user(Role.MANAGER, region="华东"))
    page = client.get("/reviews", headers=EN).get_data(as_text=True)
    assert f'/reviews/{reviews["华东"].id}"' in page
    assert f'/reviews/{reviews["SH-001"].id}"' in page
    assert f'/reviews/{reviews["GZ-001"].id}"' not in page


def test_the_review_page_is_in_the_readers_language(client, reviews, make_user, login_as):
    login_as(make_user(Role.HR))
    review = reviews["SH-001"]
    zh = client.get(f"/reviews/{review.id}", headers=ZH)
    assert zh.status_code == 200
    text = zh.get_data(as_text=True)
    assert "月度服务回顾 2026-03" in text and "指标与目标对照" in text
    en = client.get(f"/reviews/{review.id}", headers=EN).get_data(as_text=True)
    assert "Figures against targets" in en and "指标与目标对照" not in en


def test_the_pdf_draws_the_chinese_review_as_text(client, reviews, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    response = client.get(f"/reviews/{reviews['SH-001'].id}.pdf", headers=ZH)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    words = pdf_reading.text(response.data)
    assert "月度服务回顾" in words
    assert "徐汇店" in words
    assert "工单服务水平" in words


def test_mystery_shoppers_and_survey_owners_open_no_review(client, reviews, make_user, login_as):
    login_as(make_user(Role.MYSTERY))
    assert client.get("/reviews").status_code == 403
    assert client.get(f"/reviews/{reviews['SH-001'].id}").status_code == 403


def test_an_admin_builds_a_review_again_and_the_audit_log_says_so(
    client, reviews, make_user, login_as, db_session
):
    login_as(make_user(Role.ADMIN))
    review = reviews["SH-001"]
    url = f"/reviews/{review.id}/regenerate"
    assert client.post(url, data={}).status_code == 400  # no CSRF token
    response = post_form(client, url, {}, page=f"/reviews/{review.id}")
    assert response.status_code == 302
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "review.regenerated"))
    assert entry is not None


def test_only_an_admin_may_build_a_review_again(client, reviews, make_user, login_as):
    login_as(make_user(Role.HR))
    response = post_form(client, f"/reviews/{reviews['SH-001'].id}/regenerate", {}, page="/reviews")
    assert response.status_code == 403
