"""Exports: every response row says its channel, and the export can be limited to some
channels (the same ``channel`` arguments as the dashboards)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from portal.db import utcnow
from portal.exports.headers import RESPONSE_HEADERS
from portal.exports.queries import RESPONSE_COLUMNS
from portal.models import Role

EN = {"Accept-Language": "en"}


def rows_of(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    text = response.get_data().decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def answered(make_store, make_staff, answer, make_user, login_as):
    store = make_store("SH-001")
    staff = make_staff(store, "S001")
    when = utcnow() - timedelta(days=1)
    answer(store, "receipt", staff=staff, comment="by qr", now=when)
    answer(store, "kiosk", comment="by kiosk", now=when)
    answer(store, "paper", staff=staff, comment="by paper", now=when)
    login_as(make_user(Role.ADMIN))
    return store


def test_the_responses_export_has_a_channel_column(client, answered):
    header, *rows = rows_of(client.get("/exports/responses.csv", headers=EN))
    assert "channel" in RESPONSE_COLUMNS
    column = RESPONSE_COLUMNS.index("channel")
    assert header[column] == "Answer channel"
    comment = RESPONSE_COLUMNS.index("comment")
    assert sorted((row[comment], row[column]) for row in rows) == [
        ("by kiosk", "kiosk"),
        ("by paper", "paper"),
        ("by qr", "receipt"),
    ]


def test_the_channel_header_is_translated(client, answered):
    header = rows_of(client.get("/exports/responses.csv", headers={"Accept-Language": "zh-CN"}))[0]
    assert header[RESPONSE_COLUMNS.index("channel")] == "回答渠道"
    assert str(RESPONSE_HEADERS["channel"]) == "Answer channel"


def test_the_export_is_limited_to_the_ticked_channels(client, answered):
    rows = rows_of(client.get("/exports/responses.csv?channel=kiosk&channel=paper", headers=EN))
    column = RESPONSE_COLUMNS.index("channel")
    assert sorted(row[column] for row in rows[1:]) == ["kiosk", "paper"]
    summary = rows_of(client.get("/exports/summary.csv?channel=paper", headers=EN))
    by_store = {row[0]: row for row in summary[1:]}
    assert by_store["SH-001"][3] == "1"  # n: the paper answer alone


def test_the_export_form_offers_the_channels_and_keeps_them_in_its_links(client, answered):
    html = client.get("/exports/?channel=kiosk", headers=EN).get_data(as_text=True)
    assert 'name="channel" value="kiosk" checked' in html
    assert 'name="channel" value="receipt"' in html
    assert "/exports/responses.csv?from=" in html and "channel=kiosk" in html
    redirect = client.get("/exports/?kind=responses&format=csv&channel=paper", headers=EN)
    assert redirect.status_code == 302 and "channel=paper" in redirect.headers["Location"]
    named = client.get("/exports/responses.csv?channel=paper", headers=EN)
    assert "-paper-" in named.headers["Content-Disposition"]


def test_an_unknown_channel_is_a_clear_400(client, answered):
    response = client.get("/exports/responses.csv?channel=fax", headers=EN)
    assert response.status_code == 400
    assert "not a valid choice" in response.get_data(as_text=True)
