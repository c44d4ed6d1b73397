"""The comment taxonomy's themes and the sentiments in words (zh-CN and en).

The keys are those of `analysis.themes` and of the ``classify-comment`` command's output;
docs/comment-themes.md says what each one covers.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal.models import Sentiment

#: Grouped as the taxonomy groups them: the SERVQUAL dimensions, the touchpoints of a
#: visit, the retail topics.
THEME_GROUPS: dict[str, tuple[str, ...]] = {
    "servqual": ("tangibles", "reliability", "responsiveness", "assurance", "empathy"),
    "touchpoint": ("greeting", "needs", "explanation", "checkout", "farewell"),
    "topic": (
        "queue",
        "price",
        "product_quality",
        "stock",
        "cleanliness",
        "returns",
        "staff_attitude",
        "parking",
        "membership",
    ),
}

THEME_GROUP_LABELS: dict[str, Any] = {
    "servqual": _l("Service quality dimensions (SERVQUAL)"),
    "touchpoint": _l("Touchpoints of the visit"),
    "topic": _l("Store topics"),
}

THEME_LABELS: dict[str, Any] = {
    "tangibles": _l("Tangibles (store, displays, looks)"),
    "reliability": _l("Reliability (doing it right first time)"),
    "responsiveness": _l("Responsiveness (prompt help)"),
    "assurance": _l("Assurance (knowledge and trust)"),
    "empathy": _l("Empathy (personal care)"),
    "greeting": _l("Greeting"),
    "needs": _l("Finding out needs"),
    "explanation": _l("Explaining products"),
    "checkout": _l("Checkout"),
    "farewell": _l("Farewell"),
    "queue": _l("Queue and waiting"),
    "price": _l("Price"),
    "product_quality": _l("Product quality"),
    "stock": _l("Stock and availability"),
    "cleanliness": _l("Cleanliness"),
    "returns": _l("Returns and exchanges"),
    "staff_attitude": _l("Staff attitude"),
    "parking": _l("Parking"),
    "membership": _l("Membership and points"),
}

#: Every theme key, in the order the pages list them.
THEMES: tuple[str, ...] = tuple(key for keys in THEME_GROUPS.values() for key in keys)

SENTIMENT_LABELS: dict[Sentiment, Any] = {
    Sentiment.NEGATIVE: _l("negative"),
    Sentiment.NEUTRAL: _l("neutral"),
    Sentiment.POSITIVE: _l("positive"),
}


def theme_label(key: str) -> str:
    """A theme's name in the current language; an unknown key (a theme since removed from
    the taxonomy) is shown as itself rather than failing the page."""
    label = THEME_LABELS.get(key)
    return str(label) if label is not None else key
