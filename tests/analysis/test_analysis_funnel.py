"""Invitation-funnel outliers (analysis.funnel)."""

from __future__ import annotations

import pytest
from scipy.stats import false_discovery_control, norm

from analysis.funnel import StaffFunnel, funnel_outliers
from analysis.results import NpsCounts


def usual(key: str, issued: int = 100, answered: int = 35) -> StaffFunnel:
    """A cashier who offers the survey to everyone: 35 % answer, half of them promoters."""
    promoters = answered // 2
    return StaffFunnel(key, issued, answered, NpsCounts(promoters, 10, answered - promoters - 10))


# A worked example: a store of six, one cashier hands the survey only to happy customers.
PICKY = StaffFunnel("picky", issued=55, answered=44, nps=NpsCounts(36, 6, 2))  # 80 %, 82 % P
STORE = [PICKY] + [usual(f"c{i}") for i in range(1, 6)]


def test_a_cashier_with_80_percent_answered_against_35_is_flagged():
    flags = {f.key: f for f in funnel_outliers(STORE)}
    picky = flags["picky"]
    assert picky.flagged
    assert picky.reasons == ("response_rate_high", "promoter_share_high")
    assert picky.response_rate.value == pytest.approx(0.8)
    assert picky.store_rate.value == pytest.approx(0.35)  # the other five, not the store
    assert picky.store_rate.n == 500
    assert picky.rate_p < 1e-6
    assert picky.promoter_share.value == pytest.approx(36 / 44)
    assert not any(f.flagged for key, f in flags.items() if key != "picky")


def test_a_normal_cashier_is_not_flagged():
    normal = StaffFunnel("normal", issued=100, answered=40, nps=NpsCounts(20, 10, 10))
    flags = funnel_outliers([normal] + [usual(f"c{i}") for i in range(1, 6)])
    assert not any(f.flagged for f in flags)
    assert flags[0].rate_p > 0.05


def test_p_values_are_one_sided_z_then_benjamini_hochberg_across_the_store():
    flags = funnel_outliers(STORE)
    issued, answered = sum(s.issued for s in STORE), sum(s.answered for s in STORE)
    raw = []
    for s in STORE:
        k2, n2 = answered - s.answered, issued - s.issued
        pooled = answered / issued
        se = (pooled * (1 - pooled) * (1 / s.issued + 1 / n2)) ** 0.5
        raw.append(norm.sf((s.answered / s.issued - k2 / n2) / se))
    expected = false_discovery_control(raw)
    assert [f.rate_p for f in flags] == pytest.approx(list(expected), rel=1e-9)


def test_only_a_higher_rate_counts():
    shy = StaffFunnel("shy", issued=100, answered=5, nps=NpsCounts(1, 2, 2))
    flags = funnel_outliers([shy] + [usual(f"c{i}") for i in range(1, 6)])
    assert not flags[0].flagged
    assert flags[0].rate_p > 0.5


def test_too_few_answers_are_never_flagged():
    new = StaffFunnel("new", issued=12, answered=11, nps=NpsCounts(11, 0, 0))
    flags = funnel_outliers([new] + [usual(f"c{i}") for i in range(1, 6)])
    assert flags[0].rate_p < 0.05  # credibly higher, but 11 answers are below min_n
    assert not flags[0].flagged
    assert funnel_outliers([new] + [usual(f"c{i}") for i in range(1, 6)], min_n=10)[0].flagged


def test_nps_answers_may_come_from_a_wider_window_than_the_issued_receipts():
    # Answers received this month include receipts issued last month.
    late = StaffFunnel("late", issued=40, answered=10, nps=NpsCounts(30, 3, 2))
    [flag] = [f for f in funnel_outliers([late] + STORE[1:]) if f.key == "late"]
    assert flag.reasons == ("promoter_share_high",)
    assert flag.promoter_share.n == 35


def test_a_store_of_one_has_nothing_to_compare_with():
    [flag] = funnel_outliers([PICKY])
    assert flag.rate_p is None and flag.share_p is None and not flag.flagged
    assert flag.store_rate.value is None


@pytest.mark.parametrize(
    ("staff", "message"),
    [
        ([StaffFunnel("a", 5, 6, NpsCounts(0, 0, 0))], "answered of 'a' must be between 0 and n=5"),
        ([StaffFunnel("a", 5, 2, NpsCounts(-3, 0, 0))], "promoters must be >= 0"),
        ([usual("a"), usual("a")], "unique"),
    ],
)
def test_invalid_staff_raise_clear_errors(staff, message):
    with pytest.raises(ValueError, match=message):
        funnel_outliers(staff)
