"""The home pages' figures with answers of several channels: the admin's response rate is
answered receipts over receipts (a kiosk answer answers none), and a note says when a
store's figures mix channels."""

from __future__ import annotations

import re

from portal.models import Role

EN = {"Accept-Language": "en"}


def test_the_admins_activity_rate_counts_answered_receipts(
    client, make_store, answer, make_user, login_as
):
    store = make_store("SH-001")
    answer(store, "receipt")
    answer(store, "kiosk")
    answer(store, "kiosk")
    login_as(make_user(Role.ADMIN))
    html = client.get("/home", headers=EN).get_data(as_text=True)
    row = re.search(r"SH-001.*?</tr>", html, re.S).group(0)
    cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    # Receipts 1, responses 3 (with the note), rate 100 % (not 300 %).
    assert cells[1] == "1" and cells[2].startswith("3")
    assert "Mixed channels: Receipt QR code 1, In-store kiosk 2" in cells[2]
    assert cells[3] == "100 %"


def test_the_managers_store_card_notes_mixed_channels(
    client, make_store, answer, make_user, login_as
):
    store = make_store("SH-001")
    answer(store, "receipt")
    login_as(make_user(Role.MANAGER, stores=[store]))
    card = client.get("/home", headers=EN).get_data(as_text=True)
    assert "Mixed channels" not in card
    answer(store, "phone")
    card = client.get("/home", headers=EN).get_data(as_text=True)
    today = card[card.index('id="today-SH-001"') :]
    assert "Mixed channels: Receipt QR code 1, Phone return visit 1" in today
