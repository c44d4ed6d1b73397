"""Targeting rules as plain data: precedence, the A/B assignment, and the rule-set check
that keeps every open store on exactly one survey."""

from __future__ import annotations

import base64
import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from surveys.targeting import (
    Catalogue,
    Problem,
    ProblemKind,
    Rule,
    Split,
    StoreFacts,
    rule_set_problems,
    split_bucket,
    takes_b,
    top_outcomes,
    winning_rule,
)

# Two regions, two formats, one store without a format and one closed store.
SH1 = StoreFacts(1, "SH-001", "华东", "convenience")
SH2 = StoreFacts(2, "SH-002", "华东", "supermarket")
BJ1 = StoreFacts(3, "BJ-001", "华北", "convenience")
BJ2 = StoreFacts(4, "BJ-002", "华北", "")
OLD = StoreFacts(5, "OLD-001", "华北", "supermarket", open=False)
STORES = (SH1, SH2, BJ1, BJ2, OLD)
OPEN = STORES[:4]
# Survey 1 has versions 11 and 12, survey 2 version 21, survey 3 none.
CATALOGUE = Catalogue(
    version_surveys={11: 1, 12: 1, 21: 2},
    regions=frozenset({"华东", "华北"}),
    formats=frozenset({"convenience", "supermarket", "department_store"}),
)
JAN1, MAR1, MAR31, DEC31 = date(2026, 1, 1), date(2026, 3, 1), date(2026, 3, 31), date(2026, 12, 31)


def kinds(problems: list[Problem]) -> list[ProblemKind]:
    return [p.kind for p in problems]


# -- precedence ------------------------------------------------------------------------


def test_a_store_no_rule_reaches_has_no_winner():
    rules = [Rule(1, 2, store_format="convenience")]
    assert winning_rule(rules, SH2, MAR1) is None
    assert winning_rule(rules, BJ2, MAR1) is None  # no format said: no format rule


@pytest.mark.parametrize(
    ("rules", "store", "winner"),
    [
        # store beats region beats format beats chain, whatever the order given
        ([Rule(1, 2), Rule(2, 1, store_format="convenience")], SH1, 2),
        ([Rule(1, 1, store_format="convenience"), Rule(2, 2, region="华东")], SH1, 2),
        ([Rule(1, 1, region="华东"), Rule(2, 2, store_id=1)], SH1, 2),
        ([Rule(1, 2, store_id=1), Rule(2, 1)], SH1, 1),
        # a dated rule beats an undated one of the same scope...
        ([Rule(1, 1, region="华东"), Rule(2, 2, region="华东", starts_on=JAN1)], SH1, 2),
        # ...but not an undated one of a more specific scope
        ([Rule(1, 1, store_id=1), Rule(2, 2, region="华东", starts_on=JAN1)], SH1, 1),
        (
            [Rule(1, 1, store_format="convenience", ends_on=DEC31), Rule(2, 2, region="华东")],
            SH1,
            2,
        ),
    ],
)
def test_the_most_specific_rule_wins_and_dates_break_a_scope_tie(rules, store, winner):
    assert winning_rule(rules, store, MAR1).id == winner


def test_a_dated_rule_applies_on_its_days_only_both_ends_included():
    rules = [Rule(1, 1), Rule(2, 2, store_id=1, starts_on=MAR1, ends_on=MAR31)]
    chosen = {
        day: winning_rule(rules, SH1, day).id
        for day in (MAR1 - timedelta(days=1), MAR1, MAR31, MAR31 + timedelta(days=1))
    }
    assert list(chosen.values()) == [1, 2, 2, 1]


def test_open_ended_dates_run_from_or_until_their_day():
    starting, ending = Rule(1, 1, starts_on=MAR1), Rule(2, 1, ends_on=MAR1)
    assert [starting.in_force_on(d) for d in (MAR1 - timedelta(days=1), MAR1)] == [False, True]
    assert [ending.in_force_on(d) for d in (MAR1, MAR1 + timedelta(days=1))] == [True, False]


# -- the A/B assignment ----------------------------------------------------------------


def token_ids(n: int, seed: int = 12) -> list[str]:
    draw = random.Random(seed)
    return [base64.urlsafe_b64encode(draw.randbytes(12)).decode() for _ in range(n)]


def test_the_bucket_of_a_token_is_always_the_same_and_within_0_to_99():
    tokens = token_ids(1000)
    assert [split_bucket(t) for t in tokens] == [split_bucket(t) for t in tokens]
    assert {split_bucket(t) for t in tokens} <= set(range(100))


def test_buckets_are_uniform():
    # 100,000 random token ids into 100 buckets: a chi-square goodness-of-fit test against
    # the uniform distribution (a seeded draw, so the p-value is fixed; a biased hash would
    # give p far below 1e-6).
    counts = [0] * 100
    for token in token_ids(100_000):
        counts[split_bucket(token)] += 1
    assert chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("percent_b", [1, 30, 50, 99])
def test_takes_b_is_the_share_of_buckets_below_the_percentage(percent_b):
    tokens = token_ids(20_000, seed=percent_b)
    for token in tokens[:200]:
        assert takes_b(token, percent_b) == (split_bucket(token) < percent_b)
    share = sum(takes_b(t, percent_b) for t in tokens) / len(tokens)
    assert abs(share - percent_b / 100) < 0.015


def test_a_split_gives_the_same_receipt_the_same_version():
    split = Split(11, 12, 30)
    for token in token_ids(200):
        assert split.version_for(token) == split.version_for(token)
        assert split.version_for(token) == (12 if takes_b(token, 30) else 11)


# -- the rule-set check ----------------------------------------------------------------


def test_a_sound_rule_set_has_no_problem():
    rules = [
        Rule(1, 2, store_format="convenience"),
        Rule(2, 1, region="华北", starts_on=MAR1, ends_on=MAR31, split=Split(11, 12, 30)),
        Rule(3, 2, store_id=2),
        Rule(4, 1),
        # the same outcome twice at the same level is no ambiguity
        Rule(5, 2, store_format="convenience"),
    ]
    assert rule_set_problems(rules, STORES, CATALOGUE) == []


@pytest.mark.parametrize(
    ("rule", "kind", "field"),
    [
        (Rule(1, 1, store_id=5), ProblemKind.CLOSED_STORE, "store"),
        (Rule(1, 1, store_id=99), ProblemKind.UNKNOWN_STORE, "store"),
        (Rule(1, 1, region="西南"), ProblemKind.UNKNOWN_REGION, "region"),
        (Rule(1, 1, store_format="kiosk"), ProblemKind.UNKNOWN_FORMAT, "store_format"),
        (Rule(1, 1, store_id=1, region="华东"), ProblemKind.SCOPE, "scope"),
        (Rule(1, 1, starts_on=MAR31, ends_on=MAR1), ProblemKind.INVERTED_DATES, "ends_on"),
        (Rule(1, 3), ProblemKind.UNPUBLISHED_SURVEY, "survey"),
        (Rule(1, 1, split=Split(11, 21, 30)), ProblemKind.FOREIGN_VERSION, "version_b"),
        (Rule(1, 1, split=Split(99, 12, 30)), ProblemKind.FOREIGN_VERSION, "version_a"),
        (Rule(1, 1, split=Split(11, 11, 30)), ProblemKind.SAME_VERSIONS, "version_b"),
        (Rule(1, 1, split=Split(11, 12, 0)), ProblemKind.PERCENT_B, "percent_b"),
        (Rule(1, 1, split=Split(11, 12, 100)), ProblemKind.PERCENT_B, "percent_b"),
    ],
)
def test_a_faulty_rule_is_refused_naming_its_field(rule, kind, field):
    problems = rule_set_problems([rule], STORES, CATALOGUE)
    assert [(p.kind, p.field, p.rule_id) for p in problems] == [(kind, field, 1)]


def test_two_rules_of_the_same_level_with_different_surveys_tie_on_their_common_days():
    rules = [
        Rule(1, 1, region="华东", starts_on=JAN1, ends_on=MAR31),
        Rule(2, 2, region="华东", starts_on=MAR1),
    ]
    (problem,) = rule_set_problems(rules, STORES, CATALOGUE)
    assert problem == Problem(
        ProblemKind.TIE,
        2,
        "scope",
        other_rule_id=1,
        store_ids=(1, 2),
        first_day=MAR1,
        last_day=MAR31,
    )


@pytest.mark.parametrize(
    "rules",
    [
        # different splits of the same survey
        [Rule(1, 1, store_id=1, split=Split(11, 12, 30)), Rule(2, 1, store_id=1)],
        [Rule(1, 1, split=Split(11, 12, 30)), Rule(2, 1, split=Split(11, 12, 40))],
        # undated rules overlap on every day
        [Rule(1, 1, store_format="convenience"), Rule(2, 2, store_format="convenience")],
    ],
)
def test_different_splits_or_undated_rules_of_one_scope_tie(rules):
    assert kinds(rule_set_problems(rules, STORES, CATALOGUE)) == [ProblemKind.TIE]


@pytest.mark.parametrize(
    "rules",
    [
        # dated and undated are different levels: the dated one wins on its days
        [Rule(1, 1, store_id=1), Rule(2, 2, store_id=1, starts_on=MAR1, ends_on=MAR31)],
        # days that do not overlap
        [Rule(1, 1, store_id=1, ends_on=MAR1), Rule(2, 2, store_id=1, starts_on=MAR31)],
        # two regions, two formats never meet in one store at the same level
        [Rule(1, 1, region="华东"), Rule(2, 2, region="华北")],
        [Rule(1, 1, store_format="convenience"), Rule(2, 2, store_format="supermarket")],
        # different levels that both reach SH-001
        [Rule(1, 1, region="华东"), Rule(2, 2, store_format="convenience")],
    ],
)
def test_rules_that_can_never_tie_are_accepted(rules):
    assert rule_set_problems(rules, STORES, CATALOGUE) == []


def test_a_tie_in_a_region_without_open_stores_is_still_refused():
    # Opening a store there later must not create an ambiguity nobody checked.
    rules = [Rule(1, 1, region="西北"), Rule(2, 2, region="西北")]
    catalogue = Catalogue(
        CATALOGUE.version_surveys, CATALOGUE.regions | {"西北"}, CATALOGUE.formats
    )
    (problem,) = rule_set_problems(rules, STORES, catalogue)
    assert problem.kind is ProblemKind.TIE and problem.store_ids == ()


# -- property: exactly one survey per open store on every day of a year ----------------

DAYS = [JAN1 + timedelta(days=n) for n in range(365)]
OUTCOMES = [(1, None), (2, None), (1, Split(11, 12, 30)), (1, Split(11, 12, 50))]


@st.composite
def rules(draw: st.DrawFn, rule_id: int) -> Rule:
    survey_id, split = draw(st.sampled_from(OUTCOMES))
    scope = draw(st.sampled_from(["store", "region", "format", "chain"]))
    fields: dict[str, object] = {}
    if scope == "store":
        fields["store_id"] = draw(st.sampled_from([s.id for s in OPEN]))
    elif scope == "region":
        fields["region"] = draw(st.sampled_from(["华东", "华北"]))
    elif scope == "format":
        fields["store_format"] = draw(st.sampled_from(["convenience", "supermarket"]))
    if draw(st.booleans()):
        first = draw(st.one_of(st.none(), st.integers(0, 364)))
        last = draw(st.one_of(st.none(), st.integers(first or 0, 364)))
        fields["starts_on"] = None if first is None else DAYS[first]
        fields["ends_on"] = None if last is None else DAYS[last]
    return Rule(rule_id, survey_id, split=split, **fields)  # type: ignore[arg-type]


@st.composite
def rule_sets(draw: st.DrawFn) -> list[Rule]:
    n = draw(st.integers(0, 6))
    return [draw(rules(i + 1)) for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(rule_sets())
def test_an_accepted_set_gives_every_store_one_outcome_every_day_and_every_tie_is_refused(
    ruleset,
):
    problems = rule_set_problems(ruleset, STORES, CATALOGUE)
    tied_stores = {s for p in problems if p.kind is ProblemKind.TIE for s in p.store_ids}
    for store in OPEN:
        for day in DAYS:
            outcomes = top_outcomes(ruleset, store, day)
            winner = winning_rule(ruleset, store, day)
            # The resolver always answers: a rule's outcome, or the default (no rule).
            assert (winner is None) == (not outcomes)
            if len(outcomes) > 1:
                # An ambiguous tie: the check refuses the set, naming this store.
                assert store.id in tied_stores, (store.code, day)
            else:
                assert winner is None or {winner.outcome} == outcomes
    if not problems:
        for store in OPEN:
            assert all(len(top_outcomes(ruleset, store, day)) <= 1 for day in DAYS)
