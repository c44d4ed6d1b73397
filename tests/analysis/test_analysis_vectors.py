"""analysis/ against the worked test vectors of the statistics reference
(``stats-vectors.json`` beside this file, a copy of the design's reference vectors).

Each vector carries its inputs, expected outputs, absolute tolerance and source (published
tables, R packages, scipy).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import norm

from analysis.compare import benjamini_hochberg, compare_csat, compare_nps
from analysis.control import cusum, p_chart
from analysis.csat import wilson_interval
from analysis.drivers import spearman_interval
from analysis.means import mean_interval
from analysis.nps import adjusted_shares, nps_interval, nps_margin_of_error, nps_point, nps_variance
from analysis.results import NpsCounts

VECTORS_PATH = Path(__file__).resolve().parent / "stats-vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["vectors"]

#: Vectors deliberately not run as "expected = ours": other modules own them, or they
#: describe recipes the portal does not use (those are checked to *differ* from Wilson).
NOT_OURS = {
    "irr": "rater agreement belongs to the mystery-shop module",
    "rank_star_bayes": "staff ranking belongs to analysis/ranking.py",
    "rank_shrinkage": "staff ranking belongs to analysis/ranking.py",
}
DIFFERENT_RECIPES = {"wilson_continuity_corrected", "adjusted_wald_plus_two_successes_four_trials"}


def vectors(group: str, *methods: str) -> list[Any]:
    return [
        pytest.param(v, id=v["id"])
        for v in VECTORS
        if v["group"] == group and (not methods or v["method"] in methods)
    ]


def counts(d: dict[str, int]) -> NpsCounts:
    return NpsCounts(promoters=d["promoters"], passives=d["passives"], detractors=d["detractors"])


def confidence_for(z: float) -> float:
    """The two-sided confidence level whose critical value is exactly z (e.g. 1.96)."""
    return float(2.0 * norm.cdf(z) - 1.0)


def test_every_vector_is_covered_or_excused():
    covered_groups = {
        "nps_point",
        "nps_ci",
        "nps_compare",
        "csat_ci",
        "csat_compare",
        "mean_ci",
        "rank_wilson_lb",
        "min_n",
        "spc_pchart",
        "spc_cusum",
        "driver",
        "multiplicity",
    }
    unknown = {v["id"] for v in VECTORS if v["group"] not in covered_groups | NOT_OURS.keys()}
    assert unknown == set(), "a new vector group appeared: cover it or excuse it"


@pytest.mark.parametrize("v", vectors("nps_point"))
def test_nps_point_and_variance(v):
    c, exp, tol = counts(v["inputs"]), v["expected"], v["tolerance"]
    assert c.n == exp["n"]
    assert nps_point(c) == pytest.approx(exp["nps"], abs=tol)
    var = nps_variance(c)
    assert var == pytest.approx(exp["var_per_respondent"], abs=tol)
    assert 100 * math.sqrt(var / c.n) == pytest.approx(exp["se_points"], abs=tol)


NPS_CI_METHODS = {
    "trinomial_wald": "wald",
    "adjusted_wald": "adjusted_wald",
    "t_on_recoded_scores": "t",
}


@pytest.mark.parametrize("v", vectors("nps_ci"))
def test_nps_interval(v):
    c, exp, tol = counts(v["inputs"]), v["expected"], v["tolerance"]
    e = nps_interval(c, v["params"]["conf"], method=NPS_CI_METHODS[v["method"]])
    assert e.n == exp["n"]
    # The point is always the raw NPS, whatever centres the interval.
    assert e.value == pytest.approx(exp["nps"], abs=tol)
    assert e.low == pytest.approx(exp["ci_low"], abs=tol)
    assert e.high == pytest.approx(exp["ci_high"], abs=tol)
    if "moe" in exp:
        assert (e.high - e.low) / 2 == pytest.approx(exp["moe"], abs=tol)
    if v["method"] == "adjusted_wald":
        centre, var, n_adj = adjusted_shares(c)
        assert n_adj == exp["n_adj"]
        assert 100 * centre == pytest.approx(exp["nps_adj"], abs=tol)
        assert 100 * math.sqrt(var / n_adj) == pytest.approx(exp["se_adj_points"], abs=tol)


@pytest.mark.parametrize("v", vectors("nps_compare"))
def test_compare_nps(v):
    exp, tol = v["expected"], v["tolerance"]
    method = "adjusted_wald" if v["method"] == "two_sample_adjusted_wald_z" else "wald"
    a, b = counts(v["inputs"]["group1"]), counts(v["inputs"]["group2"])
    r = compare_nps(a, b, alpha=1 - v["params"]["conf"], method=method)
    assert r.diff == pytest.approx(exp.get("diff_raw_points", exp.get("diff_points")), abs=tol)
    assert r.z == pytest.approx(exp["z"], abs=tol)
    assert r.p_value == pytest.approx(exp["p_two_sided"], abs=tol)
    assert r.low == pytest.approx(exp["ci_low"], abs=tol)
    assert r.high == pytest.approx(exp["ci_high"], abs=tol)
    z = norm.ppf(0.5 + v["params"]["conf"] / 2)
    assert (r.high - r.low) / (2 * z) == pytest.approx(exp["se_points"], abs=tol)
    if "diff_adj_points" in exp:
        assert (r.high + r.low) / 2 == pytest.approx(exp["diff_adj_points"], abs=tol)


@pytest.mark.parametrize("v", vectors("csat_ci", "wilson"))
def test_wilson_interval(v):
    exp, tol = v["expected"], v["tolerance"]
    e = wilson_interval(v["inputs"]["top2"], v["inputs"]["n"], confidence_for(v["params"]["z"]))
    if "csat" in exp:
        assert e.value == pytest.approx(exp["csat"], abs=tol)
    assert e.low == pytest.approx(exp["ci_low"], abs=tol)
    assert e.high == pytest.approx(exp["ci_high"], abs=tol)


@pytest.mark.parametrize("v", vectors("csat_ci", *DIFFERENT_RECIPES))
def test_wilson_is_not_the_other_recipes_called_adjusted(v):
    # Continuity-corrected Wilson and statpsych's +2/+4 "adjusted Wald" are not the
    # portal's interval: on these inputs they differ from it by more than the tolerance.
    exp, tol = v["expected"], v["tolerance"]
    e = wilson_interval(v["inputs"]["top2"], v["inputs"]["n"])
    assert abs(e.low - exp["ci_low"]) > 10 * tol or abs(e.high - exp["ci_high"]) > 10 * tol


@pytest.mark.parametrize("v", vectors("csat_compare"))
def test_compare_csat(v):
    # The vectors are in proportions; compare_csat reports percentage points.
    exp, tol = v["expected"], 100 * v["tolerance"]
    i = v["inputs"]
    r = compare_csat(i["k1"], i["n1"], i["k2"], i["n2"], alpha=1 - v["params"]["conf"], test="z")
    assert r.diff == pytest.approx(100 * exp["diff"], abs=tol)
    assert r.low == pytest.approx(100 * exp["ci_low"], abs=tol)
    assert r.high == pytest.approx(100 * exp["ci_high"], abs=tol)
    if "z_pooled" in exp:
        # The vector's p is the pooled z's (= chi-square without continuity correction).
        assert r.z == pytest.approx(exp["z_pooled"], abs=v["tolerance"])
        assert r.p_value == pytest.approx(exp["p_two_sided"], abs=v["tolerance"])
    else:
        assert r.z is None  # both groups all 0: the pooled z is 0/0


@pytest.mark.parametrize("v", vectors("mean_ci"))
def test_mean_interval(v):
    exp, tol = v["expected"], v["tolerance"]
    mean, sd, n = v["inputs"]["mean"], v["inputs"]["sd"], v["inputs"]["n"]
    total_sq = (n - 1) * sd**2 + n * mean**2
    e = mean_interval(n, mean * n, total_sq, v["params"]["conf"])
    assert e.value == pytest.approx(mean, abs=tol)
    assert e.low == pytest.approx(exp["ci_low"], abs=tol)
    assert e.high == pytest.approx(exp["ci_high"], abs=tol)
    assert sd / math.sqrt(n) == pytest.approx(exp["se"], abs=tol)


@pytest.mark.parametrize("v", vectors("rank_wilson_lb"))
def test_wilson_lower_bound_for_ranking(v):
    # Evan Miller's bound is the Wilson lower limit; z = 1.96 (two-sided 95 %) or 1.644854
    # (his one-sided 95 %, i.e. two-sided 90 %).
    exp, tol = v["expected"], v["tolerance"]
    k, n = v["inputs"]["positive"], v["inputs"]["n"]
    low196 = wilson_interval(k, n, confidence_for(v["params"]["z_two_sided_95"])).low
    low1645 = wilson_interval(k, n, confidence_for(v["params"]["z_one_sided_95"])).low
    assert low196 == pytest.approx(exp["lb_z196"], abs=tol)
    assert low1645 == pytest.approx(exp["lb_z1645"], abs=tol)


@pytest.mark.parametrize("v", vectors("min_n"))
def test_nps_margin_of_error(v):
    exp, tol = v["expected"], v["tolerance"]
    n, shares = v["inputs"]["n"], v["inputs"]["shares"]
    conf = v["params"]["conf"]
    moe = nps_margin_of_error(n, shares["promoters"], shares["detractors"], conf)
    assert moe == pytest.approx(exp["moe_points"], abs=tol)
    assert nps_margin_of_error(n, 0.5, 0.5, conf) == pytest.approx(
        exp["moe_points_worst_case"], abs=tol
    )


@pytest.mark.parametrize("v", vectors("spc_pchart"))
def test_p_chart(v):
    exp, tol, i = v["expected"], v["tolerance"], v["inputs"]
    if "defectives" in i:
        points = p_chart(i["defectives"], [i["n_each"]] * len(i["defectives"]))
        assert points[0].center == pytest.approx(exp["pbar"], abs=tol)
    elif "sample_proportions" in i:
        xs = [round(p * i["n"]) for p in i["sample_proportions"]]
        points = p_chart(xs, [i["n"]] * len(xs), center=i["p0"])
    else:
        points = p_chart([0], [i["n"]], center=i["pbar"])
    assert points[0].lcl == pytest.approx(exp["lcl"], abs=tol)
    assert points[0].ucl == pytest.approx(exp["ucl"], abs=tol)
    out = [p.index + 1 for p in points if p.above or p.below]
    if "out_of_control" in exp:
        assert out == exp["out_of_control"]
    if "out_of_control_indexes_1based" in exp:
        assert out == exp["out_of_control_indexes_1based"]


@pytest.mark.parametrize("v", vectors("spc_cusum"))
def test_cusum(v):
    exp, tol, p = v["expected"], v["tolerance"], v["params"]
    zs = [(x - p["mu0"]) / p["sigma"] for x in v["inputs"]["x"]]
    points = cusum(zs, k=p["k"], h=p["h"])
    assert [pt.c_plus for pt in points] == pytest.approx(exp["c_plus"], abs=tol)
    assert [pt.c_minus for pt in points] == pytest.approx(exp["c_minus"], abs=tol)
    assert next(pt.index + 1 for pt in points if pt.above) == exp["first_alarm_period"]


@pytest.mark.parametrize("v", vectors("driver"))
def test_spearman_interval(v):
    exp, tol = v["expected"], v["tolerance"]
    conf = v["params"]["conf"]
    e = spearman_interval(v["inputs"]["x"], v["inputs"]["y"], conf)
    assert e.value == pytest.approx(exp["r"], abs=tol)
    assert e.low == pytest.approx(exp["ci_low"], abs=tol)
    assert e.high == pytest.approx(exp["ci_high"], abs=tol)
    se_z = (math.atanh(e.high) - math.atanh(e.low)) / (2 * norm.ppf(0.5 + conf / 2))
    assert se_z == pytest.approx(math.sqrt((1 + e.value**2 / 2) / (e.n - 3)))
    # statpsych prints the SE on the rho scale, the z-scale SE times (1 - rho^2) (delta
    # method), although the vector's params name the z-scale formula.
    assert se_z * (1 - e.value**2) == pytest.approx(exp["se"], abs=tol)


@pytest.mark.parametrize("v", vectors("multiplicity"))
def test_benjamini_hochberg(v):
    exp, tol, q = v["expected"], v["tolerance"], v["params"]["q"]
    raw = v["inputs"]["p_values"]
    adjusted = benjamini_hochberg(raw)
    assert adjusted == pytest.approx(exp["adjusted"], abs=tol)
    assert sum(p <= q for p in adjusted) == exp["discoveries"]
    assert sum(p * len(raw) <= q for p in raw) == exp["bonferroni_discoveries"]
