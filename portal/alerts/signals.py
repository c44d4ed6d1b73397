"""What breaks a rule in a week: the threshold test and the two control-chart signals,
read from a store's weekly counts (`portal.alerts.figures`).

A threshold alert fires when the week's figure is on the wrong side of the threshold
(below it, or above it for a metric where lower is better) and the week has at least the
metric's minimum n; the interval is not consulted, so a rule's threshold should sit where
a single week's noise rarely reaches. The case and mystery metrics have no weekly figure
(too few cases and visits a week): their threshold judges the last complete month. A
control chart judges the charted share (higher is worse) of the week against the weeks
before it: Laney's p′ (or the plain p-chart when those weeks vary no more than the
binomial) flags a single bad week; the EWMA flags the week a slow, sustained rise first
crosses its limit, its centre taken from the weeks before the last eight (one alert per
run of weeks above the limit: see `portal.alerts.evaluate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from analysis.control_ewma import ewma_chart, standardised_for_ewma
from analysis.control_laney import laney_p_chart, laney_sigma_z, standardised_shares
from analysis.results import Estimate
from portal.alerts.figures import BASELINE_WEEKS, MIN_BASELINE_WEEKS, WEEKLY, WeekCounts
from portal.models import LOWER_IS_BETTER, AlertKind, Metric

THRESHOLD = "threshold"
#: A monthly metric's figure past its threshold (`portal.alerts.figures.MONTHLY_MIN_N`).
MONTH_THRESHOLD = "threshold_month"
LANEY_ABOVE = "laney_above"
EWMA_ABOVE = "ewma_above"
#: The EWMA's centre line leaves out this many of the latest baseline weeks.
EWMA_RECENT_WEEKS = 8


@dataclass(frozen=True, slots=True)
class Signal:
    """One break: its kind, the value and the limit it crossed (the metric's unit for a
    threshold, percent for p′, standard errors for the EWMA), the week's n, and what the
    page and the mail say besides (centre line, σ_z, the week's share)."""

    signal: str
    value: float
    limit: float
    n: int
    detail: dict[str, float | bool] = field(default_factory=dict)


def threshold_signal(metric: Metric, threshold: float, week: WeekCounts | None) -> Signal | None:
    """The threshold break of ``week``, or ``None``."""
    if week is None:
        return None
    reader = WEEKLY[metric]
    value, n = reader.figure(week)
    if value is None or n < reader.min_n:
        return None
    broken = value > threshold if metric in LOWER_IS_BETTER else value < threshold
    return Signal(THRESHOLD, value, threshold, n) if broken else None


def month_threshold_signal(
    metric: Metric, threshold: float, figure: Estimate, min_n: int
) -> Signal | None:
    """The threshold break of a monthly metric's figure for the month, or ``None``."""
    if figure.value is None or figure.n < min_n:
        return None
    broken = figure.value > threshold if metric in LOWER_IS_BETTER else figure.value < threshold
    return Signal(MONTH_THRESHOLD, figure.value, threshold, figure.n) if broken else None


def control_signals(metric: Metric, weeks: dict[date, WeekCounts], judged: date) -> list[Signal]:
    """The p′ and EWMA breaks of the week starting ``judged`` against the
    `BASELINE_WEEKS` before it; none without `MIN_BASELINE_WEEKS` weeks of answers."""
    reader = WEEKLY[metric]
    starts = [judged - timedelta(weeks=k) for k in range(BASELINE_WEEKS, -1, -1)]
    pairs = [reader.share(weeks.get(w, WeekCounts())) for w in starts]
    counts, sizes = [c for c, _n in pairs], [n for _c, n in pairs]
    base_weeks = sum(1 for n in sizes[:-1] if n > 0)
    base_n = sum(sizes[:-1])
    if base_weeks < MIN_BASELINE_WEEKS or base_n < reader.min_n or sizes[-1] == 0:
        return []
    chart = laney_p_chart(counts, sizes, baseline=BASELINE_WEEKS)
    if not 0.0 < chart.center < 1.0:
        return []
    found: list[Signal] = []
    point = chart.points[-1]
    detail: dict[str, float | bool] = {
        "center": 100.0 * chart.center,
        "share": 100.0 * (point.share or 0.0),
        "laney": chart.laney,
        "sigma_z": chart.sigma_z or 0.0,
    }
    if point.above and point.ucl is not None:
        found.append(
            Signal(LANEY_ABOVE, 100.0 * (point.share or 0.0), 100.0 * point.ucl, point.n, detail)
        )
    ewma = _ewma_signal(counts, sizes, detail)
    if ewma is not None:
        found.append(ewma)
    return found


def _ewma_signal(
    counts: list[int], sizes: list[int], detail: dict[str, float | bool]
) -> Signal | None:
    # The EWMA's centre comes from the older weeks only: a shift of the last weeks must
    # not raise the level it is judged against, or a slow rise would be absorbed.
    old = BASELINE_WEEKS - EWMA_RECENT_WEEKS
    old_n = sum(sizes[:old])
    if sum(1 for n in sizes[:old] if n > 0) < MIN_BASELINE_WEEKS or old_n == 0:
        return None
    center = sum(counts[:old]) / old_n
    if not 0.0 < center < 1.0:
        return None
    sigma_z = laney_sigma_z(standardised_shares(counts[:old], sizes[:old], center))
    points = ewma_chart(standardised_for_ewma(counts, sizes, center, sigma_z))
    if not points[-1].above:
        return None
    run = 0
    for point in reversed(points):
        if not point.above:
            break
        run += 1
    last = points[-1]
    said = {**detail, "center": 100.0 * center, "run_weeks": run}
    return Signal(EWMA_ABOVE, last.statistic, last.limit, sizes[-1], said)


def signals_of(
    metric: Metric,
    kind: AlertKind,
    threshold: float | None,
    weeks: dict[date, WeekCounts],
    judged: date,
) -> list[Signal]:
    """Every break of a rule (metric, kind, threshold) in the week starting ``judged``."""
    if kind == AlertKind.THRESHOLD:
        if threshold is None:
            return []
        found = threshold_signal(metric, threshold, weeks.get(judged))
        return [] if found is None else [found]
    return control_signals(metric, weeks, judged)
