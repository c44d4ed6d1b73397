"""Benchmark: the NPS posterior's 10th/90th percentiles of 4,000 staff, exact against the
Cornish-Fisher approximation the ranking used before, and the whole ``rank_staff``.

Run as ``.venv/bin/python bench/nps_bounds_bench.py [--staff 4000] [--repeat 9]``.

The staff are the synthetic chain of ``python -m analysis.ranking`` (200 stores of 20,
about 250 answers each); the Dirichlet parameters are their answers plus 20 pseudo-answers
at a 55/30/15 store mix, and a tenth of them get only 3 answers, where the two methods
differ most. Prints one row per method (median, min and max of ``--repeat`` runs after one
warm-up), the largest difference between the two in NPS points, and ``rank_staff``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from analysis.ranking.__main__ import _synthetic_chain
from analysis.ranking.model import HIGH_P, LOW_P
from analysis.ranking.nps_quantiles import cornish_fisher_nps, nps_quantiles
from analysis.ranking.staff import rank_staff


def timed(function: Callable[[], object], repeat: int) -> tuple[list[float], float]:
    """Wall times of ``repeat`` runs after a warm-up, and the least CPU time of one run."""
    function()
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return times, min(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--staff", type=int, default=4000, help="staff, 20-4000")
    parser.add_argument("--repeat", type=int, default=9, help="timed runs (1-50)")
    args = parser.parse_args()
    if not 20 <= args.staff <= 4000 or not 1 <= args.repeat <= 50:
        parser.error("--staff must be 20-4000 and --repeat 1-50")
    chain = _synthetic_chain()[: args.staff]
    counts = np.array([[s.promoters, s.passives, s.detractors] for s in chain], dtype=float)
    small = np.random.default_rng(2).random(len(counts)) < 0.1
    counts[small] = np.random.default_rng(3).multinomial(3, [0.6, 0.25, 0.15], small.sum())
    alpha = counts + 20 * np.array([0.55, 0.30, 0.15])
    probabilities = (LOW_P, HIGH_P)
    n = args.repeat
    rows = [
        ("Cornish-Fisher (before)", timed(lambda: cornish_fisher_nps(alpha, probabilities), n)),
        ("exact (nps_quantiles)", timed(lambda: nps_quantiles(alpha, probabilities), n)),
        ("rank_staff (with exact)", timed(lambda: rank_staff(chain), n)),
    ]
    exact = np.array(nps_quantiles(alpha, probabilities))
    approx = np.array(cornish_fisher_nps(alpha, probabilities))
    gap = 100 * np.abs(exact - approx)
    print(f"{len(chain):,} staff ({small.sum()} with 3 answers); Python {sys.version.split()[0]}")
    print(f"{'':<28}{'median':>9}{'min':>9}{'max':>9}{'CPU min':>9}")
    print(f"{'':<28}{'ms':>9}{'ms':>9}{'ms':>9}{'ms':>9}")
    for label, (times, cpu) in rows:
        print(
            f"{label:<28}{statistics.median(times) * 1e3:>9.1f}{min(times) * 1e3:>9.1f}"
            f"{max(times) * 1e3:>9.1f}{cpu * 1e3:>9.1f}"
        )
    print(
        f"largest |exact - Cornish-Fisher|: {gap.max():.4f} NPS points "
        f"(3 answers: {gap[:, small].max():.4f}, others: {gap[:, ~small].max():.4f})"
    )


if __name__ == "__main__":
    main()
