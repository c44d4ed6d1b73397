"""The examples in analysis/ docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "analysis.nps",
    "analysis.csat",
    "analysis.means",
    "analysis.compare",
    "analysis.control",
    "analysis.drivers",
    "analysis.categories",
    "analysis.distribution",
    "analysis.trends",
    "analysis.funnel",
    "analysis.significance",
    "analysis.ranking.posteriors",
    "analysis.ranking.nps_quantiles",
    "analysis.ranking.priors",
    "analysis.ranking.composite",
    "analysis.ranking.selection",
    "analysis.ranking.bands",
    "analysis.ranking.staff",
    "analysis.training",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
