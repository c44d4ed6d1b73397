"""What comments are about: themes from a documented taxonomy, with sentiment.

Pure: no Flask, no database. ``classify(text)`` reads one comment (Chinese, English or
both) and returns its themes (the keys of ``taxonomy.yaml``, the same strings as
``portal.themes.words.THEMES``), each with a sentiment, and the comment's own sentiment.
``TAXONOMY_VERSION`` is the version written beside stored classifications: raise it in
``taxonomy.yaml`` whenever the words change, then run ``reclassify-comments``.
"""

from __future__ import annotations

from analysis.themes.classifier import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    SENTIMENTS,
    Classification,
    ThemeHit,
    classify,
)
from analysis.themes.taxonomy import load_taxonomy

#: The taxonomy's version (``version`` in taxonomy.yaml).
TAXONOMY_VERSION: int = load_taxonomy().version
#: Every theme key, in the taxonomy's order.
THEME_KEYS: tuple[str, ...] = load_taxonomy().keys

__all__ = [
    "NEGATIVE",
    "NEUTRAL",
    "POSITIVE",
    "SENTIMENTS",
    "TAXONOMY_VERSION",
    "THEME_KEYS",
    "Classification",
    "ThemeHit",
    "classify",
]
