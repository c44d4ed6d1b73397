"""Measuring the classifier against comments labelled by hand: precision, recall and F1.

Used by ``bench/themes_bench.py`` (the report) and the tests (the floors), so both count
the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from analysis.themes.classifier import SENTIMENTS, Classification


@dataclass(frozen=True, slots=True)
class Labelled:
    """One comment with its hand labels: theme → sentiment, and the overall sentiment."""

    text: str
    themes: Mapping[str, str]
    sentiment: str


@dataclass(frozen=True, slots=True)
class ThemeScore:
    """One theme's counts and scores; ``None`` where the denominator is 0."""

    theme: str
    support: int
    true_positives: int
    false_positives: int
    false_negatives: int
    precision: float | None
    recall: float | None
    f1: float | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Per theme scores, their micro and macro averages, and the sentiment accuracies.

    ``theme_sentiment_accuracy`` is over the themes found and labelled (true positives);
    ``sentiment_accuracy`` over every comment's overall sentiment.
    """

    comments: int
    themes: tuple[ThemeScore, ...]
    micro_precision: float | None
    micro_recall: float | None
    micro_f1: float | None
    macro_f1: float | None
    theme_sentiment_accuracy: float | None
    sentiment_accuracy: float | None


def parse_labelled(data: Any, known: Iterable[str]) -> list[Labelled]:
    """The ``comments`` of a labelled YAML document, checked against the known keys."""
    keys = set(known)
    out = []
    for entry in data["comments"]:
        themes = dict(entry.get("themes") or {})
        unknown = set(themes) - keys
        bad = {s for s in (*themes.values(), entry["sentiment"]) if s not in SENTIMENTS}
        if unknown or bad:
            raise ValueError(f"{entry['text']!r}: unknown {sorted(unknown | bad)}")
        out.append(Labelled(str(entry["text"]), themes, entry["sentiment"]))
    return out


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def evaluate(
    labelled: Iterable[Labelled],
    classify: Callable[[str], Classification],
    keys: Iterable[str],
) -> Evaluation:
    """Score ``classify`` on ``labelled`` for every theme of ``keys``.

    Parameters
    ----------
    labelled : iterable of Labelled
    classify : callable
        Text to `Classification` (``analysis.themes.classify``).
    keys : iterable of str
        The themes to score, in the order the report lists them.

    Returns
    -------
    Evaluation
        Macro F1 is the mean over themes with at least one labelled example.
    """
    keys = tuple(keys)
    tp = dict.fromkeys(keys, 0)
    fp, fn = dict(tp), dict(tp)
    same_theme_sentiment = comments = same_sentiment = 0
    for item in labelled:
        result = classify(item.text)
        found = {hit.theme: hit.sentiment for hit in result.themes}
        comments += 1
        same_sentiment += result.sentiment == item.sentiment
        for key in keys:
            if key in found and key in item.themes:
                tp[key] += 1
                same_theme_sentiment += found[key] == item.themes[key]
            elif key in found:
                fp[key] += 1
            elif key in item.themes:
                fn[key] += 1
    scores = []
    for key in keys:
        precision = _ratio(tp[key], tp[key] + fp[key])
        recall = _ratio(tp[key], tp[key] + fn[key])
        support = tp[key] + fn[key]
        scores.append(
            ThemeScore(
                key, support, tp[key], fp[key], fn[key], precision, recall, _f1(precision, recall)
            )
        )
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    micro_p, micro_r = _ratio(all_tp, all_tp + all_fp), _ratio(all_tp, all_tp + all_fn)
    f1s = [s.f1 or 0.0 for s in scores if s.support]
    return Evaluation(
        comments=comments,
        themes=tuple(scores),
        micro_precision=micro_p,
        micro_recall=micro_r,
        micro_f1=_f1(micro_p, micro_r),
        macro_f1=sum(f1s) / len(f1s) if f1s else None,
        theme_sentiment_accuracy=_ratio(same_theme_sentiment, all_tp),
        sentiment_accuracy=_ratio(same_sentiment, comments),
    )
