"""Which survey version a receipt gets, decided by `issue_receipt` through the targeting
rules: by format, on a rule's store-local days, and in an A/B split whose proportions stay
within the binomial 99 % band over 10,000 receipts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scipy.stats import binom

from portal.db import utcnow
from portal.models import DEFAULT_SURVEY_KEY
from portal.receipts import issue_receipt
from portal.targeting import version_for_receipt, version_id_for_receipt
from portal.versions import default_survey
from surveys.targeting import Rule, Split, takes_b


def issue(db_session, settings, store, *, transaction_id, issued_at=None, now=None, survey=None):
    issued = issue_receipt(
        db_session,
        settings,
        store=store,
        staff_code=None,
        transaction_id=transaction_id,
        issued_at=issued_at,
        total_cents=None,
        now=now or utcnow(),
        survey_key=survey,
    )
    return issued.receipt


def test_a_convenience_store_gets_the_convenience_survey_a_supermarket_the_default(
    db_session, settings, chain, add_rule
):
    add_rule(Rule(None, chain.survey.id, store_format="convenience"))
    convenience = issue(db_session, settings, chain.convenience, transaction_id="T-1")
    supermarket = issue(db_session, settings, chain.supermarket, transaction_id="T-2")
    assert convenience.survey_version_id == chain.v2.id  # the latest published version
    assert supermarket.survey_version.survey_key == DEFAULT_SURVEY_KEY


def test_without_rules_every_store_gets_the_default_survey(db_session, settings, chain):
    for n, store in enumerate((chain.supermarket, chain.convenience, chain.urumqi)):
        receipt = issue(db_session, settings, store, transaction_id=f"T-{n}")
        assert receipt.survey_version.survey_key == DEFAULT_SURVEY_KEY


def test_a_dated_rule_applies_only_on_its_store_local_days(db_session, settings, chain, add_rule):
    # 1 March in Urumqi (UTC+6) runs from 28 February 18:00 to 1 March 18:00 UTC.
    day = datetime(2026, 3, 1).date()
    add_rule(Rule(None, chain.survey.id, store_id=chain.urumqi.id, starts_on=day, ends_on=day))
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    moments = {
        "before": datetime(2026, 2, 28, 17, 59, tzinfo=UTC),  # 28 Feb 23:59 in Urumqi
        "first": datetime(2026, 2, 28, 18, 0, tzinfo=UTC),  # 1 Mar 00:00
        "last": datetime(2026, 3, 1, 17, 59, tzinfo=UTC),  # 1 Mar 23:59
        "after": datetime(2026, 3, 1, 18, 0, tzinfo=UTC),  # 2 Mar 00:00
    }
    surveys = {
        name: issue(
            db_session, settings, chain.urumqi, transaction_id=name, issued_at=at, now=now
        ).survey_version.survey_key
        for name, at in moments.items()
    }
    assert surveys == {
        "before": DEFAULT_SURVEY_KEY,
        "first": "convenience",
        "last": "convenience",
        "after": DEFAULT_SURVEY_KEY,
    }


def test_a_store_rule_beats_the_format_rule_and_a_dated_one_the_undated(
    db_session, settings, chain, add_rule
):
    today = datetime.now(UTC).date()
    add_rule(Rule(None, chain.survey.id, store_format="convenience"))
    add_rule(
        Rule(
            None,
            chain.survey.id,
            store_id=chain.convenience.id,
            split=Split(chain.v1.id, chain.v2.id, 99),
        )
    )
    default_id = issue(
        db_session, settings, chain.supermarket, transaction_id="D"
    ).survey_version_id
    add_rule(
        Rule(
            None,
            default_survey(db_session).id,
            store_id=chain.convenience.id,
            starts_on=today - timedelta(days=1),
            ends_on=today + timedelta(days=1),
        )
    )
    dated = issue(db_session, settings, chain.convenience, transaction_id="T-1")
    assert dated.survey_version_id == default_id
    urumqi = issue(db_session, settings, chain.urumqi, transaction_id="T-2")
    assert urumqi.survey_version_id == chain.v2.id


def test_deciding_a_receipts_version_costs_at_most_two_small_queries(
    db_session, chain, add_rule, sent_statements
):
    add_rule(Rule(None, chain.survey.id, store_format="convenience"))
    add_rule(
        Rule(
            None,
            chain.survey.id,
            store_id=chain.urumqi.id,
            split=Split(chain.v1.id, chain.v2.id, 30),
        )
    )
    day = utcnow().date()
    spent = {}
    for store in (chain.convenience, chain.urumqi, chain.supermarket):
        before = len(sent_statements)
        version_id_for_receipt(db_session, store, day, "some-token-id")
        spent[store.code] = sent_statements[before:]
    # The rules in force for the store and day, then the survey's latest version; a split
    # names its versions.
    assert [len(s) for s in spent.values()] == [2, 1, 2], spent
    assert all("target_rules" in s[0] for s in spent.values())
    assert version_for_receipt(db_session, chain.convenience, day, "t").id == chain.v2.id


# -- the A/B split ---------------------------------------------------------------------

RECEIPTS = 10_000
PERCENT_B = 30


def test_a_30_percent_split_over_10000_receipts_lies_in_the_binomial_99_percent_band(
    db_session, settings, chain, add_rule
):
    add_rule(
        Rule(
            None,
            chain.survey.id,
            store_format="convenience",
            split=Split(chain.v1.id, chain.v2.id, PERCENT_B),
        )
    )
    now = utcnow()
    # The split is decided by the token id alone, the same on either database; PostgreSQL
    # issues a fifth as many (each receipt there is a round trip, 10,000 take minutes).
    count = RECEIPTS if db_session.get_bind().dialect.name == "sqlite" else RECEIPTS // 5
    receipts = [
        issue(db_session, settings, chain.convenience, transaction_id=f"T-{n:05d}", now=now)
        for n in range(count)
    ]
    b = sum(r.survey_version_id == chain.v2.id for r in receipts)
    assert all(r.survey_version_id in (chain.v1.id, chain.v2.id) for r in receipts)
    # The central 99 % of Binomial(10,000, 0.30): 2,882 to 3,118.
    low = binom.ppf(0.005, count, PERCENT_B / 100)
    high = binom.ppf(0.995, count, PERCENT_B / 100)
    assert low <= b <= high, (low, b, high)
    # Each receipt's version is the one its token id picks.
    assert all(
        (r.survey_version_id == chain.v2.id) == takes_b(r.token_id, PERCENT_B) for r in receipts
    )
    # A reprint (the same transaction id again) keeps its receipt, and so its version.
    for receipt in receipts[:300]:
        again = issue(
            db_session, settings, chain.convenience, transaction_id=receipt.transaction_id
        )
        assert (again.id, again.survey_version_id) == (receipt.id, receipt.survey_version_id)


# -- a survey the POS names --------------------------------------------------------------


def test_a_named_survey_replaces_the_rules_survey(db_session, settings, chain, add_rule):
    add_rule(Rule(None, chain.survey.id, store_format="convenience"))
    named = issue(
        db_session, settings, chain.convenience, transaction_id="T-1", survey=DEFAULT_SURVEY_KEY
    )
    assert named.survey_version.survey_key == DEFAULT_SURVEY_KEY
    named = issue(
        db_session, settings, chain.supermarket, transaction_id="T-2", survey="convenience"
    )
    assert named.survey_version_id == chain.v2.id


@pytest.mark.parametrize("percent_b", [1, 99])
def test_a_named_survey_under_its_own_split_takes_part_in_the_split(
    db_session, settings, chain, add_rule, percent_b
):
    add_rule(
        Rule(
            None,
            chain.survey.id,
            store_format="convenience",
            split=Split(chain.v1.id, chain.v2.id, percent_b),
        )
    )
    receipts = [
        issue(
            db_session, settings, chain.convenience, transaction_id=f"T-{n}", survey="convenience"
        )
        for n in range(200)
    ]
    assert all(
        r.survey_version_id == (chain.v2.id if takes_b(r.token_id, percent_b) else chain.v1.id)
        for r in receipts
    )
