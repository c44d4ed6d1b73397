"""The vectorised invitation-funnel check gives exactly the person-by-person results.

``analysis.funnel._funnel_outliers_reference`` is the code from before the vectorisation:
one ``two_proportion_test`` per person and test (Fisher's exact test where an expected cell
is below 5) and four ``wilson_interval`` calls per person. The numpy version performs the
same floating-point operations in the same order, so the comparison is ``==`` on the
FunnelFlag dataclasses: bit-for-bit equal p-values and intervals, not just close.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact, norm

from analysis import funnel
from analysis.compare import two_proportion_test
from analysis.funnel import (
    _EXACT_TOTAL,
    StaffFunnel,
    _funnel_outliers_reference,
    _one_sided_p_many,
    funnel_outliers,
)
from analysis.results import NpsCounts


def assert_same(staff: list[StaffFunnel], **options: float) -> None:
    new = funnel_outliers(staff, **options)
    reference = _funnel_outliers_reference(staff, **options)
    assert new == reference
    for a, b in zip(new, reference, strict=True):
        # == treats 0.0 and -0.0 alike and never sees an int/float mix-up: check the types.
        for field in ("rate_p", "share_p"):
            assert type(getattr(a, field)) is type(getattr(b, field))
        for field in ("response_rate", "store_rate", "promoter_share", "store_promoter_share"):
            ea, eb = getattr(a, field), getattr(b, field)
            assert [type(v) for v in (ea.value, ea.low, ea.high, ea.n)] == [
                type(v) for v in (eb.value, eb.low, eb.high, eb.n)
            ]


@st.composite
def staff_members(draw: st.DrawFn, key: str) -> StaffFunnel:
    issued = draw(st.integers(0, 60))
    answered = draw(st.integers(0, issued))
    promoters, passives, detractors = (draw(st.integers(0, 25)) for _ in range(3))
    return StaffFunnel(key, issued, answered, NpsCounts(promoters, passives, detractors))


@st.composite
def stores(draw: st.DrawFn) -> list[StaffFunnel]:
    size = draw(st.integers(1, 12))
    return [draw(staff_members(f"s{i}")) for i in range(size)]


@settings(max_examples=300, deadline=None)
@given(stores(), st.sampled_from([0.01, 0.05, 0.2, 0.6]), st.integers(0, 40))
def test_small_stores_match_the_reference_exactly(staff, alpha, min_n):
    assert_same(staff, alpha=alpha, min_n=min_n)


def random_store(rng: random.Random, size: int, scale: int) -> list[StaffFunnel]:
    staff = []
    for i in range(size):
        issued = rng.choice([0, rng.randint(0, 5), rng.randint(0, scale)])
        rate = rng.choice([0.0, 1.0, rng.random(), 0.35])
        answered = min(issued, round(issued * rate))
        n = rng.choice([0, rng.randint(0, 5), rng.randint(0, scale // 2)])
        promoters = round(n * rng.choice([0.0, 1.0, rng.random()]))
        passives = rng.randint(0, n - promoters)
        staff.append(
            StaffFunnel(
                f"s{i}", issued, answered, NpsCounts(promoters, passives, n - promoters - passives)
            )
        )
    return staff


def test_seeded_random_stores_match_the_reference_exactly():
    rng = random.Random(20261122)
    methods: dict[str, int] = {"z": 0, "fisher": 0, "none": 0}
    for _ in range(400):
        size = rng.choice([1, 1, 2, 3, rng.randint(4, 40)])
        scale = rng.choice([3, 10, 60, 400, 5_000, 1_000_000])
        staff = random_store(rng, size, scale)
        assert_same(staff)
        assert_same(staff, alpha=0.3, min_n=0)
        issued, answered = sum(s.issued for s in staff), sum(s.answered for s in staff)
        for s in staff:
            if s.issued == 0 or s.issued == issued:
                methods["none"] += 1
            else:
                test = two_proportion_test(
                    s.answered, s.issued, answered - s.answered, issued - s.issued
                )
                methods[test.method] += 1
    # Both tests and the "nothing to compare" rows were exercised.
    assert min(methods.values()) > 200, methods


def test_the_bench_month_shape_matches_the_reference_exactly():
    """200 stores of about 20, a month of a large chain: many expected cells below 5."""
    rng = np.random.default_rng(1)
    for store in range(200):
        staff = []
        for i in range(int(rng.integers(15, 26))):
            issued = int(rng.poisson(rng.choice([3, 25, 80])))
            answered = int(rng.binomial(issued, rng.uniform(0.2, 0.9)))
            counts = rng.multinomial(int(rng.poisson(answered)), [0.5, 0.3, 0.2])
            staff.append(
                StaffFunnel(f"{store}-{i}", issued, answered, NpsCounts(*map(int, counts)))
            )
        assert_same(staff)


def test_stores_near_the_float64_limit_are_exact_and_above_it_use_the_reference(monkeypatch):
    below = [
        StaffFunnel("a", 30_000_000, 12_345_677, NpsCounts(9, 1, 1)),
        StaffFunnel("b", _EXACT_TOTAL - 30_000_002, 13_000_000, NpsCounts(3, 5, 7)),
        StaffFunnel("c", 1, 1, NpsCounts(0, 0, 0)),
    ]
    assert sum(s.issued for s in below) == _EXACT_TOTAL - 1
    assert_same(below)

    def vectorised(*args):
        raise AssertionError("the vectorised path was taken")

    monkeypatch.setattr(funnel, "_one_sided_p_many", vectorised)
    above = [*below[:2], StaffFunnel("c", 2, 2, NpsCounts(0, 0, 0))]
    assert_same(above)
    huge = [
        StaffFunnel("a", 2**70, 2**69, NpsCounts(1, 2, 3)),
        StaffFunnel("b", 1000, 100, NpsCounts(0, 1, 2)),
    ]
    assert_same(huge)  # beyond int64 too


def test_an_empty_store_has_no_flags():
    assert funnel_outliers([]) == []


def test_the_vectorised_p_values_are_the_scalar_tests():
    """z rows are norm.sf(z), Fisher rows fisher_exact(..., "greater"), bit for bit."""
    k1 = np.array([56, 3, 0, 5, 2, 7, 1], dtype=np.int64)
    n1 = np.array([70, 4, 3, 5, 0, 9, 1], dtype=np.int64)
    k2 = np.array([48, 30, 0, 0, 4, 300, 0], dtype=np.int64)
    n2 = np.array([80, 100, 50, 10, 8, 400, 0], dtype=np.int64)
    p = _one_sided_p_many(k1, n1, k2, n2)
    assert p[0] == float(norm.sf(two_proportion_test(56, 70, 48, 80).z))
    assert p[1] == float(fisher_exact([[3, 1], [30, 70]], alternative="greater").pvalue)
    assert p[2] == 1.0  # no successes at all: fisher_exact's degenerate table
    assert p[3] == float(fisher_exact([[5, 0], [0, 10]], alternative="greater").pvalue)
    assert p[4] is None and p[6] is None  # a group without trials
    for i in (0, 1, 2, 3, 5):
        args = (int(k1[i]), int(n1[i]), int(k2[i]), int(n2[i]))
        assert p[i] == two_proportion_test(*args, alternative="greater").p_value


@pytest.mark.parametrize("size", [1, 2])
def test_tiny_stores(size):
    staff = [StaffFunnel(f"s{i}", 10 * (i + 1), 3 * i, NpsCounts(i, 1, 0)) for i in range(size)]
    assert_same(staff)
