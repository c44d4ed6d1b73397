"""Screening submits for ballot stuffing (portal.ballot.screening): each rule flags what it
should, the whole group of a burst or a pattern is flagged, an ordinary busy day is not
flagged at all, the rules follow their settings, and the origin keeps no address."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.ballot.origin import network_of, normalise_comment, origin_of
from portal.ballot.rules import rules_of
from portal.config import Settings, SettingsError
from portal.models import FlagState, ResponseOrigin
from tests.conftest import SECRET
from tests.portal.ballot.conftest import all_flags, flags_of

#: A Wednesday, 10:00 in Shanghai.
T0 = datetime(2026, 11, 18, 2, tzinfo=UTC)
#: Four different answers, so that only the rule under test can fire.
VARIED = [(10, 5), (9, 4), (8, 5), (7, 4), (6, 3), (10, 4)]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.fixture
def shop(make_store, make_staff):
    store = make_store("SH-001", name="徐汇店")
    return store, make_staff(store, "S001", name="张伟"), make_staff(store, "S002", name="李娜")


# -- burst -------------------------------------------------------------------------------


def test_a_burst_from_one_device_flags_every_answer_of_the_group(db_session, submit, shop):
    store, cashier, _ = shop
    answers = [
        submit(store, cashier, at=T0 + minutes(2 * i), nps=nps, csat=csat)
        for i, (nps, csat) in enumerate(VARIED[:3])
    ]
    assert all_flags(db_session) == []  # three from one phone in 10 minutes: allowed
    answers.append(submit(store, cashier, at=T0 + minutes(7), nps=7, csat=4))
    # The fourth crosses the limit: the burst is the group, the first three included.
    for response in answers:
        flag = flags_of(db_session, response)["burst"]
        assert flag.state == FlagState.HELD
    assert flags_of(db_session, answers[3])["burst"].details == {
        "by": "device",
        "answers": 4,
        "minutes": 10,
    }
    later = submit(store, cashier, at=T0 + minutes(9), nps=6, csat=3)
    assert set(flags_of(db_session, later)) == {"burst"}
    assert len(all_flags(db_session)) == 5


def test_a_burst_across_the_cashiers_of_one_store_is_flagged(db_session, submit, shop):
    store, first, second = shop
    for i, (nps, csat) in enumerate(VARIED[:4]):
        submit(store, first if i % 2 else second, at=T0 + minutes(i), nps=nps, csat=csat)
    # One store, two cashiers: the store's group holds all four.
    assert [rule for _, rule in all_flags(db_session)] == ["burst"] * 4


def test_one_device_answering_for_several_stores_is_no_burst(db_session, submit, make_store):
    # A shopper who visits four stores in ten minutes (a mall) answers each receipt.
    for i, (nps, csat) in enumerate(VARIED[:4]):
        submit(make_store(f"SH-10{i}"), at=T0 + minutes(2 * i), nps=nps, csat=csat)
    assert all_flags(db_session) == []


def test_the_burst_window_ends(db_session, submit, shop):
    store, cashier, _ = shop
    for i, (nps, csat) in enumerate(VARIED[:4]):
        submit(store, cashier, at=T0 + minutes(4 * i), nps=nps, csat=csat)
    # 0, 4, 8, 12 minutes: never four within ten.
    assert all_flags(db_session) == []


@pytest.mark.parametrize(
    "addresses",
    [
        [f"198.51.100.{n}" for n in (7, 23, 99, 140, 201)],
        [f"2001:db8:1:{n:x}::1" for n in (1, 2, 300, 4000, 65535)],
    ],
    ids=["ipv4-24", "ipv6-48"],
)
def test_a_burst_from_one_network_flags_the_group(db_session, submit, shop, settings, addresses):
    store, cashier, _ = shop
    strict = replace(settings, ballot_burst_network=4)
    for i, address in enumerate(addresses):
        nps, csat = VARIED[i]
        if i == 4:
            assert all_flags(db_session) == []  # four devices, four answers: allowed
        last = submit(
            store,
            cashier,
            at=T0 + minutes(i),
            address=address,
            agent=f"Phone {i}",
            nps=nps,
            csat=csat,
            settings=strict,
        )
    fifth = last
    flag = flags_of(db_session, fifth)["burst"]
    assert flag.details == {"by": "network", "answers": 5, "minutes": 10}
    assert [rule for _, rule in all_flags(db_session)] == ["burst"] * 5


def test_devices_on_neighbouring_networks_are_not_one_network(db_session, submit, shop, settings):
    store, cashier, _ = shop
    strict = replace(settings, ballot_burst_network=2)
    for i, address in enumerate(["198.51.100.7", "198.51.101.7", "2001:db8:1::1", "2001:db8:2::1"]):
        nps, csat = VARIED[i]
        submit(
            store, cashier, at=T0 + minutes(i), address=address, nps=nps, csat=csat, settings=strict
        )
    assert all_flags(db_session) == []


# -- too fast ----------------------------------------------------------------------------


def test_an_answer_seconds_after_printing_is_flagged(db_session, submit, shop):
    store, cashier, _ = shop
    quick = submit(store, cashier, at=T0, printed=timedelta(seconds=6))
    flag = flags_of(db_session, quick)["fast"]
    assert (flag.state, flag.details) == (FlagState.HELD, {"seconds": 6, "limit": 20})
    # Scanning, reading and answering five questions takes longer than that.
    normal = submit(store, cashier, at=T0 + minutes(30), printed=timedelta(seconds=45))
    assert flags_of(db_session, normal) == {}


# -- identical pattern -------------------------------------------------------------------


def test_identical_answers_are_flagged_as_a_group(db_session, submit, shop):
    store, cashier, _ = shop
    comments = [
        "服务很好！",
        "服务很好",
        " 服务 很好。",
        "ＳＥＲＶＩＣＥ good",
        "service GOOD!!",
        "服务很好",
    ]
    ratings = {"rating_speed": 5, "rating_friendliness": 5}

    def copy(i, comment):
        return submit(
            store,
            cashier,
            at=T0 + minutes(i),
            address=f"198.51.{i}.9",
            agent=f"Phone {i}",
            ratings=ratings,
            comment=comment,
        )

    same = [copy(i, text) for i, text in enumerate(comments[:3] + comments[5:])]
    assert all_flags(db_session) == []  # four identical answers (three copies): allowed
    same.append(copy(6, "服务很好!"))
    same.append(copy(7, "服务 很好"))
    # Six identical answers: each has five copies, all six are held.
    for response in same:
        assert flags_of(db_session, response)["pattern"].details == {"answers": 6, "minutes": 10}
    # Another comment is another pattern.
    other = copy(8, "service good")
    assert flags_of(db_session, other) == {}
    assert normalise_comment(comments[3]) == normalise_comment(comments[4]) == "servicegood"


def test_the_same_scores_with_a_different_rating_are_another_pattern(db_session, submit, shop):
    store, cashier, _ = shop
    for i in range(6):
        speed = 5 if i % 2 else 4
        submit(
            store,
            cashier,
            at=T0 + minutes(i),
            address=f"198.51.{i}.9",
            ratings={"rating_speed": speed},
        )
    assert all_flags(db_session) == []


# -- the false-positive guard ----------------------------------------------------------


def test_an_ordinary_busy_day_is_not_flagged(db_session, submit, shop):
    """A busy store from 10:00 to 16:00: an answer every 3 minutes, two thirds of them the
    top scores without a comment, a quarter over the store's Wi-Fi (one address, so one
    network), answers 2 to 40 minutes after the receipt, and a family answering two
    receipts from one phone."""
    store, first, second = shop
    for i in range(120):
        at = T0 + minutes(3 * i)
        wifi = i % 4 == 0
        address = "203.0.113.1" if wifi else f"10.{i}.{i % 7}.{i % 5 + 2}"
        agent = "店内 Wi-Fi 手机" if wifi else f"Phone {i}"
        top = i % 3 != 2
        nps, csat = (10, 5) if top else VARIED[i % len(VARIED)]
        submit(
            store,
            first if i % 2 else second,
            at=at,
            address=address,
            agent=f"{agent} {i}",
            nps=nps,
            csat=csat,
            printed=minutes(2 + (i * 7) % 38),
            comment=None if top else f"第{i}次来，收银员很耐心",
        )
    family = T0 + timedelta(hours=7)
    submit(store, first, at=family, agent="Family phone", nps=10, csat=5)
    submit(store, second, at=family + minutes(1), agent="Family phone", nps=8, csat=4)
    assert all_flags(db_session) == []


# -- settings and origin -----------------------------------------------------------------


def test_each_rule_can_be_turned_off(db_session, submit, shop, settings):
    store, cashier, _ = shop
    off = replace(
        settings,
        ballot_burst_device=0,
        ballot_burst_network=0,
        ballot_fast_seconds=0,
        ballot_pattern_copies=0,
    )
    for i in range(8):
        submit(store, cashier, at=T0 + minutes(i / 2), printed=timedelta(seconds=2), settings=off)
    assert all_flags(db_session) == []


def test_the_rules_are_read_from_the_environment():
    settings = Settings.from_env(
        {
            "PORTAL_BALLOT_BURST_DEVICE": "5",
            "PORTAL_BALLOT_BURST_NETWORK": "40",
            "PORTAL_BALLOT_BURST_MINUTES": "15",
            "PORTAL_BALLOT_FAST_SECONDS": "30",
            "PORTAL_BALLOT_PATTERN_COPIES": "8",
            "PORTAL_BALLOT_PATTERN_MINUTES": "20",
            "PORTAL_INSTANCE_PATH": "/tmp/portal-ballot-settings",
        }
    )
    rules = rules_of(settings)
    assert (rules.burst.device_limit, rules.burst.network_limit) == (5, 40)
    assert (rules.burst.window, rules.fast.seconds) == (minutes(15), 30)
    assert (rules.pattern.copies, rules.pattern.window, rules.look_back) == (
        8,
        minutes(20),
        minutes(20),
    )
    defaults = rules_of(Settings())
    assert (defaults.burst.device_limit, defaults.burst.network_limit) == (3, 15)
    assert (defaults.fast.seconds, defaults.pattern.copies) == (20, 5)
    for name, value in (
        ("PORTAL_BALLOT_BURST_DEVICE", "-1"),
        ("PORTAL_BALLOT_PATTERN_MINUTES", "0"),
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: value, "PORTAL_INSTANCE_PATH": "/tmp/portal-ballot-settings"})


def test_the_origin_is_keyed_and_keeps_no_address(db_session, submit, shop):
    store, cashier, _ = shop
    submit(store, cashier, at=T0, address="203.0.113.77", agent="Mozilla/5.0 (iPhone)")
    stored = db_session.scalars(select(ResponseOrigin)).one()
    row = " ".join(str(v) for v in (stored.device_key, stored.network_key, stored.pattern_key))
    assert "203.0.113" not in row and "iPhone" not in row
    mine = origin_of(SECRET, "203.0.113.77", "Mozilla/5.0 (iPhone)")
    assert (stored.device_key, stored.network_key) == (mine.device_key, mine.network_key)
    # Keyed with the secret: another key gives other values, so no table of hashed
    # addresses made without the key can name the address.
    other = origin_of("another-secret-key-of-32-characters", "203.0.113.77", "Mozilla/5.0 (iPhone)")
    assert other.device_key != mine.device_key and other.network_key != mine.network_key
    assert origin_of(SECRET, "203.0.113.5", "x").network_key == mine.network_key
    assert origin_of(SECRET, "203.0.114.77", "x").network_key != mine.network_key


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("::ffff:203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"),
        ("unknown", "unknown"),
    ],
)
def test_network_of(address, network):
    assert network_of(address) == network


def test_origins_are_kept_only_as_long_as_the_rules_look_back(db_session, submit, shop):
    store, cashier, _ = shop
    submit(store, cashier, at=T0)
    submit(store, cashier, at=T0 + minutes(5), agent="Phone B")
    submit(store, cashier, at=T0 + minutes(11), agent="Phone C")
    # The first (11 minutes old) is past every window and deleted by the third submit.
    assert db_session.scalar(select(func.count()).select_from(ResponseOrigin)) == 2
