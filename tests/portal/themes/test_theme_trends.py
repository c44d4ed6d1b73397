"""Rising and falling themes: the month's share against the month before by the dashboard's
two-proportion comparison, Benjamini-Hochberg adjusted across themes; flagged on a real
change, not on noise, and never below the minimum n."""

from __future__ import annotations

from analysis.compare import benjamini_hochberg, compare_csat
from portal.themes.figures import Trend, theme_trends
from portal.themes.queries import ThemeCounts, share_rows


def trends(now: dict[str, int], n: int, before: dict[str, int], previous_n: int):
    rows = theme_trends(
        share_rows(ThemeCounts(n, now, {})),
        share_rows(ThemeCounts(previous_n, before, {})),
        n,
        previous_n,
    )
    return {row.current.key: row for row in rows}


def test_a_theme_that_doubles_on_200_comments_is_rising_and_one_that_halves_is_falling():
    rows = trends({"queue": 80, "price": 20}, 200, {"queue": 40, "price": 40}, 200)
    assert rows["queue"].trend == Trend.RISING
    assert rows["price"].trend == Trend.FALLING
    # The adjusted p is BH of the themes' own two-proportion p-values.
    raw = [compare_csat(80, 200, 40, 200).p_value, compare_csat(20, 200, 40, 200).p_value]
    assert [rows["queue"].p_adjusted, rows["price"].p_adjusted] == benjamini_hochberg(raw)


def test_noise_is_no_clear_change():
    rows = trends(
        {"queue": 44, "price": 30, "stock": 12}, 200, {"queue": 40, "price": 33, "stock": 10}, 200
    )
    assert {row.trend for row in rows.values()} == {Trend.NO_CLEAR_CHANGE}


def test_a_change_significant_alone_is_not_flagged_after_adjusting_across_19_themes():
    # queue: 60/200 against 42/200 gives p ≈ 0.04 alone; among 18 other themes with no
    # change, Benjamini-Hochberg takes it above 0.05.
    others = {f"t{i}": 20 for i in range(18)}
    rows = trends({"queue": 60, **others}, 200, {"queue": 42, **others}, 200)
    assert compare_csat(60, 200, 42, 200).p_value < 0.05
    assert rows["queue"].trend == Trend.NO_CLEAR_CHANGE


def test_below_the_minimum_n_nothing_is_judged_and_a_vanished_theme_is_listed():
    rows = trends({"queue": 20}, 20, {"queue": 2, "price": 10}, 20)
    assert rows["queue"].trend == Trend.NOT_ENOUGH_DATA
    assert rows["price"].current.count == 0 and rows["price"].previous.count == 10
