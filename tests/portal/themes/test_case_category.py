"""The case category suggested from a comment's themes."""

from __future__ import annotations

import pytest

from portal.themes.categories import CATEGORY_OF_THEME, suggest_category
from portal.themes.words import THEMES
from surveys.loader import receipt_survey


@pytest.mark.parametrize(
    ("hits", "category"),
    [
        ([("queue", "negative")], "checkout_wait"),
        ([("staff_attitude", "negative"), ("greeting", "negative")], "service_attitude"),
        # The negative mention wins over a more specific positive one.
        ([("price", "positive"), ("staff_attitude", "negative")], "service_attitude"),
        # Among negative ones, the store topic over the touchpoint.
        ([("checkout", "negative"), ("returns", "negative")], "returns_exchange"),
        ([("empathy", "neutral")], "service_attitude"),
        ([("stock", "negative")], None),
        ([], None),
    ],
)
def test_suggested_category(hits, category):
    assert suggest_category(hits) == category


def test_every_mapping_is_a_theme_and_a_case_category():
    categories = {c.key for c in receipt_survey().question("problem_category").choices}
    assert set(CATEGORY_OF_THEME) <= set(THEMES)
    assert set(CATEGORY_OF_THEME.values()) <= categories
