"""Mystery-shop scoring (analysis.mystery) against the reference worked fixture
(reference/mystery-and-awards.md §1.3), hand-worked cases and invariants."""

from __future__ import annotations

import doctest
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr, ttest_1samp

import analysis.mystery
from analysis.mystery import (
    Grade,
    GradeBands,
    ItemInput,
    SectionInput,
    ShopperScore,
    grade,
    mystery_customer_correlation,
    score_visit,
    shopper_reliability,
    subset_score,
    touchpoint_summaries,
)

# The reference questionnaire (§1.2): section -> weight, items (key, points, critical).
TABLE = {
    "A": (
        15,
        [("A1", 2, "none"), ("A2", 1, "none"), ("A3", 2, "none"), ("A4", 3, "visit")]
        + [("A5", 1, "none")],
    ),
    "B": (15, [("B1", 2, "none"), ("B2", 1, "none"), ("B3", 1, "none")]),
    "C": (15, [("C1", 1, "none"), ("C2", 2, "none"), ("C3", 1, "none")]),
    "D": (20, [("D1", 3, "none"), ("D2", 2, "none"), ("D3", 1, "none"), ("D4", 1, "none")]),
    "E": (
        25,
        [("E1", 2, "none"), ("E2", 1, "none"), ("E3", 3, "section"), ("E4", 1, "none")]
        + [("E5", 1, "none"), ("E6", 1, "none"), ("E7", 2, "visit")],
    ),
    "F": (10, [("F1", 1, "none"), ("F2", 1, "none"), ("F3", 1, "none")]),
}
# The worked fixture's answers.
FIXTURE = dict(
    A1="Y", A2="N", A3="Y", A4="Y", A5="NA",
    B1="Y", B2="N", B3="Y",
    C1="NA", C2="Y", C3="N",
    D1="Y", D2="Y", D3="N", D4="Y",
    E1="Y", E2="Y", E3="Y", E4="N", E5="Y", E6="Y", E7="NA",
    F1="Y", F2="N", F3="NA",
)  # fmt: skip
FRACTION = {"Y": 1.0, "N": 0.0, "NA": None}


def fixture_sections(**changes: str) -> list[SectionInput]:
    answers = FIXTURE | changes
    return [
        SectionInput(
            key,
            weight,
            tuple(ItemInput(k, pts, FRACTION[answers[k]], crit) for k, pts, crit in items),
        )
        for key, (weight, items) in TABLE.items()
    ]


def test_worked_fixture_sections_and_overall():
    visit = score_visit(fixture_sections())

    expected = {"A": 87.50, "B": 75.00, "C": 66.67, "D": 85.71, "E": 88.89, "F": 50.00}
    assert {s.key: s.score for s in visit.sections} == pytest.approx(expected, abs=0.005)
    assert (visit.section("A").earned, visit.section("A").possible) == (7.0, 8.0)
    assert visit.score_before_autofail == pytest.approx(78.74, abs=0.005)
    assert visit.reported == visit.score_before_autofail
    assert not visit.auto_fail
    assert visit.points_only == pytest.approx(100 * 27 / 33)
    assert round(visit.points_only, 2) == 81.82


def test_section_critical_no_zeroes_its_section_only():
    visit = score_visit(fixture_sections(E3="N"))

    checkout = visit.section("E")
    assert checkout.score == 0.0 and checkout.critical_failed
    assert (checkout.earned, checkout.possible) == (5.0, 9.0)  # the points stay visible
    assert visit.reported == pytest.approx(56.52, abs=0.005)
    assert not visit.auto_fail


def test_visit_critical_no_fails_the_visit_but_keeps_the_computed_score():
    visit = score_visit(fixture_sections(A4="N"))

    assert visit.section("A").score == 0.0 and visit.section("A").critical_failed
    assert visit.score_before_autofail == pytest.approx(65.62, abs=0.005)
    assert visit.reported == 0.0
    assert visit.auto_fail
    assert grade(visit) is Grade.FAIL


def test_a_wholly_na_section_leaves_the_weighting():
    visit = score_visit(fixture_sections(C1="NA", C2="NA", C3="NA"))

    assert visit.section("C").score is None
    assert visit.section("C").possible == 0.0
    assert visit.reported == pytest.approx(80.87, abs=0.005)


def test_staff_attributable_sub_scores():
    visit = score_visit(fixture_sections())

    assert subset_score(visit, {"B", "C", "D", "E", "F"}) == pytest.approx(77.19, abs=0.005)
    assert subset_score(visit, ["E"]) == pytest.approx(88.89, abs=0.005)
    assert subset_score(visit, []) is None


def test_sub_score_keeps_a_zeroed_section_but_not_another_sections_auto_fail():
    visit = score_visit(fixture_sections(A4="N", E3="N"))

    assert visit.reported == 0.0
    assert subset_score(visit, ["E"]) == 0.0
    assert subset_score(visit, ["B"]) == pytest.approx(75.0)


def test_sub_score_of_na_sections_only_is_none_and_unknown_keys_raise():
    visit = score_visit(fixture_sections(C1="NA", C2="NA", C3="NA"))
    assert subset_score(visit, ["C"]) is None
    with pytest.raises(ValueError, match="unknown section keys"):
        subset_score(visit, ["C", "Z"])


def test_every_section_na_gives_no_score():
    all_na = {key: "NA" for key in FIXTURE}
    visit = score_visit(fixture_sections(**all_na))

    assert all(s.score is None for s in visit.sections)
    assert visit.score_before_autofail is None
    assert visit.reported is None
    assert visit.points_only is None
    assert not visit.auto_fail
    assert grade(visit) is None


def test_no_sections_gives_no_score():
    visit = score_visit([])
    assert (visit.sections, visit.reported, visit.points_only) == ((), None, None)


def test_partial_credit_and_a_zero_point_critical_item():
    visit = score_visit(
        [
            SectionInput("s", 10, (ItemInput("a", 2, 0.5), ItemInput("b", 2, 1.0))),
            SectionInput("t", 10, (ItemInput("c", 0, 0.0, "section"), ItemInput("d", 1, 1.0))),
        ]
    )
    assert visit.section("s").score == pytest.approx(75.0)
    # A critical item fails by earning nothing, whatever its points.
    assert visit.section("t").score == 0.0
    assert visit.reported == pytest.approx(37.5)


def test_section_lookup_raises_key_error():
    with pytest.raises(KeyError):
        score_visit(fixture_sections()).section("Z")


def one_section(points_yes: int, points_no: int):
    items = [ItemInput(f"y{i}", 1, 1.0) for i in range(points_yes)]
    items += [ItemInput(f"n{i}", 1, 0.0) for i in range(points_no)]
    return score_visit([SectionInput("s", 100, tuple(items))])


@pytest.mark.parametrize(
    ("yes", "no", "expected"),
    [
        (10, 0, Grade.GOLD),
        (9, 1, Grade.GOLD),  # exactly 90
        (89, 11, Grade.SILVER),  # 89
        (8, 2, Grade.SILVER),  # exactly 80
        (79, 21, Grade.STANDARD),
        (7, 3, Grade.STANDARD),  # exactly 70
        (69, 31, Grade.BELOW),
        (0, 5, Grade.BELOW),
    ],
)
def test_grade_bands_are_inclusive_lower_bounds(yes, no, expected):
    assert grade(one_section(yes, no)) is expected


def test_a_score_a_rounding_error_under_a_bound_reaches_it():
    # 90 computed as a weighted mean can land a hair under; it must still be gold.
    visit = replace(one_section(9, 1), reported=90.0 - 1e-12)
    assert grade(visit) is Grade.GOLD


def test_custom_bands():
    bands = GradeBands(gold=95, silver=85, standard=50)
    assert grade(one_section(9, 1), bands) is Grade.SILVER
    assert grade(one_section(1, 1), bands) is Grade.STANDARD


@pytest.mark.parametrize(
    "values",
    [
        {"gold": 80, "silver": 90, "standard": 70},
        {"gold": 90, "silver": 80, "standard": 80},
        {"gold": 101, "silver": 80, "standard": 70},
        {"gold": 90, "silver": 80, "standard": -1},
        {"gold": math.nan, "silver": 80, "standard": 70},
    ],
)
def test_grade_bands_must_be_ordered_and_on_0_to_100(values):
    with pytest.raises(ValueError):
        GradeBands(**values)


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ([SectionInput("s", 10, (ItemInput("a", -1, 1.0),))], "points"),
        ([SectionInput("s", -5, (ItemInput("a", 1, 1.0),))], "weight"),
        ([SectionInput("s", 0, (ItemInput("a", 1, 1.0),))], "weight must be > 0"),
        ([SectionInput("s", math.inf, (ItemInput("a", 1, 1.0),))], "weight"),
        ([SectionInput("s", 10, (ItemInput("a", 1, 1.5),))], "earned_fraction"),
        ([SectionInput("s", 10, (ItemInput("a", 1, -0.1),))], "earned_fraction"),
        ([SectionInput("s", 10, (ItemInput("a", 1, math.nan),))], "earned_fraction"),
        ([SectionInput("s", 10, (ItemInput("a", 1, 0.0, "store"),))], "critical"),
        ([SectionInput("s", 10, (ItemInput("a", 1, 1.0), ItemInput("a", 1, 1.0)))], "twice"),
        (
            [
                SectionInput("s", 10, (ItemInput("a", 1, 1.0),)),
                SectionInput("s", 10, (ItemInput("b", 1, 1.0),)),
            ],
            "twice",
        ),
    ],
)
def test_invalid_inputs_raise_value_error(sections, message):
    with pytest.raises(ValueError, match=message):
        score_visit(sections)


CRITS = ["none", "section", "visit"]
# Hypothesis: random checklists of up to 5 sections of up to 6 items.
answer = st.sampled_from([1.0, 0.0, None]) | st.floats(0, 1)
item_parts = st.tuples(st.integers(0, 3), answer, st.sampled_from(CRITS))
section_parts = st.tuples(st.integers(1, 40), st.lists(item_parts, max_size=6))


def build(parts: list[tuple[int, list[tuple[int, float | None, str]]]], scale: float = 1.0):
    return [
        SectionInput(
            f"s{k}",
            weight * scale,
            tuple(ItemInput(f"s{k}i{i}", pts, f, crit) for i, (pts, f, crit) in enumerate(items)),
        )
        for k, (weight, items) in enumerate(parts)
    ]


@settings(max_examples=200)
@given(st.lists(section_parts, max_size=5))
def test_every_score_lies_on_0_to_100(parts):
    visit = score_visit(build(parts))
    figures = [s.score for s in visit.sections]
    figures += [visit.score_before_autofail, visit.reported, visit.points_only]
    figures += [subset_score(visit, [s.key for s in visit.sections[:2]])]
    assert all(0.0 <= f <= 100.0 + 1e-9 for f in figures if f is not None)
    assert (
        (visit.reported == 0.0)
        if visit.auto_fail
        else (visit.reported == visit.score_before_autofail)
    )


@settings(max_examples=200)
@given(st.lists(section_parts, min_size=1, max_size=5), st.data())
def test_na_items_never_change_a_section_score(parts, data):
    base = score_visit(build(parts))
    k = data.draw(st.integers(0, len(parts) - 1))
    extra = data.draw(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(CRITS)), max_size=3))
    weight, items = parts[k]
    widened = [*parts]
    widened[k] = (weight, items + [(pts, None, crit) for pts, crit in extra])
    after = score_visit(build(widened))
    assert after.section(f"s{k}") == base.section(f"s{k}")
    assert after.reported == base.reported


@settings(max_examples=200)
@given(
    st.lists(section_parts, max_size=5),
    st.floats(0.01, 1000, allow_nan=False, allow_infinity=False),
)
def test_scaling_every_weight_by_a_constant_changes_nothing(parts, scale):
    plain = score_visit(build(parts))
    scaled = score_visit(build(parts, scale))
    if plain.reported is None:
        assert scaled.reported is None
    else:
        assert scaled.reported == pytest.approx(plain.reported, abs=1e-9)
        assert scaled.score_before_autofail == pytest.approx(plain.score_before_autofail, abs=1e-9)


def test_touchpoint_summaries_skip_na_and_missing_sections():
    visits = [
        score_visit(fixture_sections()),  # C 66.67
        score_visit(fixture_sections(C1="NA", C2="NA", C3="NA")),  # C N/A
        score_visit(fixture_sections(C1="Y", C3="Y")),  # C 100
        score_visit([SectionInput("E", 25, (ItemInput("E1", 2, 1.0),))]),  # no C at all
    ]
    summaries = touchpoint_summaries(visits, ["C", "E", "Z"])

    assert [s.key for s in summaries] == ["C", "E", "Z"]
    c = summaries[0].estimate
    assert c.n == 2
    assert c.value == pytest.approx((200 / 3 + 100) / 2)
    # t interval with 1 degree of freedom: mean ± 12.706 × s / √2.
    half = 12.7062047 * math.sqrt(((100 - 200 / 3) ** 2) / 2) / math.sqrt(2)
    assert (c.low, c.high) == pytest.approx((c.value - half, c.value + half), abs=1e-5)
    assert summaries[1].estimate.n == 4
    assert summaries[2].estimate.n == 0 and summaries[2].estimate.value is None


def test_touchpoint_summary_counts_a_critically_failed_section_as_zero():
    visits = [score_visit(fixture_sections(E3="N")), score_visit(fixture_sections())]
    (e,) = touchpoint_summaries(visits, ["E"])
    assert e.estimate.value == pytest.approx(800 / 9 / 2)


# Reliability: shopper 99 scores 15 points above the others at every store; eight other
# shoppers visit the same six stores with deterministic noise of a few points.
NOISE = [-6, 4, -2, 6, 0, -4, 2, -3, 5, -1]


def lenient_shopper_rows() -> list[ShopperScore]:
    rows = []
    for store in range(6):
        base = 60 + 5 * store
        for shopper in range(1, 9):
            rows.append(ShopperScore(shopper, store, base + NOISE[(3 * shopper + 7 * store) % 10]))
        rows.append(ShopperScore(99, store, base + 15 + NOISE[store] / 2))
    return rows


def test_a_shopper_fifteen_points_above_the_others_is_flagged_and_only_they():
    result = shopper_reliability(lenient_shopper_rows())

    assert [r.shopper_id for r in result] == [*range(1, 9), 99]
    flagged = [r.shopper_id for r in result if r.outlier]
    assert flagged == [99]
    lenient = result[-1]
    assert lenient.n == 6
    assert 12 < lenient.mean_deviation < 18
    assert lenient.low > 0
    assert lenient.p_adjusted < 0.01
    # The others sit a little below (the lenient shopper is part of their comparison).
    assert all(-4 < r.mean_deviation < 0 and r.p_adjusted > 0.2 for r in result[:-1])


def test_reliability_matches_scipys_t_test_and_bh():
    rows = lenient_shopper_rows()
    result = {r.shopper_id: r for r in shopper_reliability(rows)}
    # Shopper 1's deviations by hand.
    devs = []
    for store in range(6):
        own = [r.score for r in rows if r.store_id == store and r.shopper_id == 1]
        others = [r.score for r in rows if r.store_id == store and r.shopper_id != 1]
        devs.append(own[0] - sum(others) / len(others))
    assert result[1].mean_deviation == pytest.approx(sum(devs) / 6)
    assert result[1].p_value == pytest.approx(ttest_1samp(devs, 0).pvalue, rel=1e-9)
    assert result[1].p_adjusted >= result[1].p_value


def test_exact_equal_gaps_have_p_zero_and_no_gap_p_one():
    rows = [ShopperScore(1, s, 60.0) for s in range(4)] + [
        ShopperScore(2, s, 75.0) for s in range(4)
    ]
    a, b = shopper_reliability(rows)
    assert (a.mean_deviation, b.mean_deviation) == (-15.0, 15.0)
    assert (a.low, a.high) == (-15.0, -15.0)
    assert a.p_value == 0.0 and a.outlier and b.outlier

    same = [ShopperScore(j, s, 70.0) for j in (1, 2) for s in range(4)]
    assert [r.p_value for r in shopper_reliability(same)] == [1.0, 1.0]


def test_visits_without_another_shopper_and_thin_shoppers_are_not_tested():
    rows = [
        ShopperScore(1, 1, 80.0),
        ShopperScore(2, 1, 70.0),
        ShopperScore(1, 2, 90.0),  # nobody else at store 2: skipped
        ShopperScore(3, 3, 50.0),  # alone: nothing to compare with
    ]
    result = {r.shopper_id: r for r in shopper_reliability(rows, min_visits=2)}

    assert result[1].n == 1 and result[1].mean_deviation == 10.0
    assert result[1].low is None and result[1].p_value is None and not result[1].outlier
    assert result[3].n == 0 and result[3].mean_deviation is None and not result[3].outlier
    assert shopper_reliability([]) == ()


@pytest.mark.parametrize(
    ("rows", "options"),
    [
        ([ShopperScore(1, 1, 101.0)], {}),
        ([ShopperScore(1, 1, -1.0)], {}),
        ([ShopperScore(1, 1, math.nan)], {}),
        ([], {"min_visits": 1}),
        ([], {"alpha": 0.0}),
        ([], {"alpha": 1.0}),
    ],
)
def test_reliability_rejects_bad_input(rows, options):
    with pytest.raises(ValueError):
        shopper_reliability(rows, **options)


def test_mystery_customer_correlation_is_spearman_with_an_interval():
    mystery = [72.0, 81.5, 90.0, 65.0, 78.0, 88.0, 70.0, 95.0]
    customer = [18.0, 30.0, 41.0, 5.0, 35.0, 33.0, 12.0, 50.0]
    c = mystery_customer_correlation(mystery, customer)

    assert c.rho.value == pytest.approx(float(spearmanr(mystery, customer).statistic))
    assert c.rho.n == 8
    assert c.rho.low < c.rho.value < c.rho.high
    with pytest.raises(ValueError):
        mystery_customer_correlation([1.0, 2.0], [1.0])


def test_docstring_examples():
    result = doctest.testmod(analysis.mystery, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
