"""``python -m analysis.ranking``: times ``rank_staff`` on 4,000 synthetic staff, the
figures the package docstring quotes (a benchmark, not a test)."""

from __future__ import annotations

import time

import numpy as np

from analysis.ranking.model import StaffInput
from analysis.ranking.staff import rank_staff


def _synthetic_chain(seed: int = 1) -> list[StaffInput]:
    """4,000 staff as in the package docstring's timing: 200 stores of 20 in 10 regions,
    about 250 answers each, 0-2 mystery visits, a few upheld complaints."""
    rng = np.random.default_rng(seed)
    rows = []
    store_rate = rng.beta(85, 15, 200)
    for i in range(4000):
        store = i // 20
        rate = float(rng.beta(20 * store_rate[store], 20 * (1 - store_rate[store])))
        answers = int(rng.integers(150, 350))
        promoters, passives, detractors = (
            int(v) for v in rng.multinomial(answers, [0.65 * rate, 0.25, 0.75 - 0.65 * rate])
        )
        visits = tuple(
            float(np.clip(rng.normal(80 + 40 * (rate - 0.85), 15), 0, 100))
            for _ in range(int(rng.integers(0, 3)))
        )
        transactions = int(rng.integers(1500, 4500))
        rows.append(
            StaffInput(
                staff_id=i + 1,
                store_id=store + 1,
                group=f"region-{store // 20:02d}",
                satisfied=int(rng.binomial(answers, rate)),
                rated=answers,
                promoters=promoters,
                passives=passives,
                detractors=detractors,
                mystery_scores=visits,
                complaints=int(rng.poisson(0.0005 * transactions)),
                transactions=transactions,
            )
        )
    return rows


def main() -> None:
    """Rank the synthetic chain nine times and print the best and median times."""
    chain = _synthetic_chain()
    wall, cpu = [], []
    for _ in range(9):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = rank_staff(chain)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    proposed = sum(s.proposed for s in result.scores)
    print(
        f"rank_staff, {len(chain)} staff: wall best {1000 * min(wall):.0f} ms, median "
        f"{1000 * sorted(wall)[4]:.0f} ms; CPU best {1000 * min(cpu):.0f} ms (9 runs); "
        f"m = {result.m:.1f} ({result.m_source}), {proposed} proposed, weight sensitivity "
        f"{result.weight_sensitivity}"
    )


if __name__ == "__main__":
    main()
