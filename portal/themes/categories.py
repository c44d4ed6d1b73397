"""From a comment's themes to the case category a manager would most likely choose: the
suggestion shown when a case is opened (by hand, from what the customer said, or from an
answer's comment). A pure mapping: the manager always has the last word.

The case categories are the receipt survey's ``problem_category`` choices
(``surveys/library/receipt.yaml``): product_quality, service_attitude, checkout_wait,
returns_exchange, delivery, price, other.
"""

from __future__ import annotations

from collections.abc import Iterable

from analysis.themes import classify
from portal.models import Sentiment

#: Theme -> case category, most specific first: a store topic names the problem more
#: precisely than a touchpoint, a touchpoint more than a SERVQUAL dimension, so the first
#: mapped theme in this order wins among equally negative mentions. Themes absent here
#: (stock, reliability, tangibles) name no category well enough to suggest one.
CATEGORY_OF_THEME: dict[str, str] = {
    "returns": "returns_exchange",
    "product_quality": "product_quality",
    "queue": "checkout_wait",
    "price": "price",
    "membership": "price",
    "staff_attitude": "service_attitude",
    "cleanliness": "other",
    "parking": "other",
    "checkout": "checkout_wait",
    "greeting": "service_attitude",
    "needs": "service_attitude",
    "explanation": "service_attitude",
    "farewell": "service_attitude",
    "responsiveness": "service_attitude",
    "empathy": "service_attitude",
    "assurance": "service_attitude",
}

_RANK = {theme: i for i, theme in enumerate(CATEGORY_OF_THEME)}


def suggest_category(hits: Iterable[tuple[str, str]]) -> str | None:
    """The case category suggested by a comment's themes.

    Parameters
    ----------
    hits : iterable of (theme, sentiment)
        The comment's themes, each with how it was spoken of.

    Returns
    -------
    str or None
        The category of the most specific theme spoken of negatively (a complaint is
        about what went wrong); failing that, of the most specific theme at all; ``None``
        when no theme maps to a category.
    """
    mapped = [(theme, sentiment) for theme, sentiment in hits if theme in CATEGORY_OF_THEME]
    if not mapped:
        return None
    theme, _sentiment = min(
        mapped, key=lambda hit: (hit[1] != Sentiment.NEGATIVE.value, _RANK[hit[0]])
    )
    return CATEGORY_OF_THEME[theme]


def suggest_category_of_text(text: str) -> str | None:
    """The category `suggest_category` gives the themes of ``text`` (what the customer
    said, as the manager wrote it down), classified as a stored comment would be."""
    return suggest_category((hit.theme, hit.sentiment) for hit in classify(text).themes)
