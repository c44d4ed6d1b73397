"""Benchmark: the comment themes classifier against the hand-labelled comments.

Run as ``python bench/themes_bench.py [--labelled tests/analysis/themes/labelled_comments.yaml]
[--repeat 3] [--limit 0]``. Reads the labelled comments (``--limit N`` keeps the first N;
0 keeps all), classifies each with ``analysis.themes.classify`` and prints, per theme, the
labelled examples, precision, recall and F1, then the micro and macro averages, how often
a found theme's sentiment and a comment's overall sentiment match the labels, and the
milliseconds per comment (best of ``--repeat`` passes over the set, after the tokenizer's
one-time load, which is shown apart).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from analysis.themes import TAXONOMY_VERSION, THEME_KEYS, classify
from analysis.themes.evaluation import evaluate, parse_labelled

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LABELLED = "tests/analysis/themes/labelled_comments.yaml"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="themes_bench.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--labelled", default=DEFAULT_LABELLED, help="labelled comments (YAML)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (best is shown)")
    parser.add_argument("--limit", type=int, default=0, help="first N comments only (0: all)")
    args = parser.parse_args(argv)
    path = Path(args.labelled)
    labelled = parse_labelled(yaml.safe_load((ROOT / path).read_text("utf-8")), THEME_KEYS)
    if args.limit:
        labelled = labelled[: args.limit]

    started = time.perf_counter()
    classify("排队")  # builds the tokenizer and the phrase tables
    load_ms = (time.perf_counter() - started) * 1000
    best = float("inf")
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        for item in labelled:
            classify(item.text)
        best = min(best, time.perf_counter() - started)
    result = evaluate(labelled, classify, THEME_KEYS)

    print(f"Taxonomy version {TAXONOMY_VERSION}; {result.comments} labelled comments ({path})")
    print()
    print(f"{'theme':<18}{'labelled':>9}{'found':>7}{'precision':>11}{'recall':>8}{'F1':>7}")
    for s in result.themes:
        found = s.true_positives + s.false_positives
        print(
            f"{s.theme:<18}{s.support:>9}{found:>7}{_pct(s.precision):>11}"
            f"{_pct(s.recall):>8}{_pct(s.f1):>7}"
        )
    print()
    print(
        f"micro average: precision {_pct(result.micro_precision)}, recall "
        f"{_pct(result.micro_recall)}, F1 {_pct(result.micro_f1)}"
    )
    print(f"macro average F1: {_pct(result.macro_f1)}")
    print(
        f"theme sentiment accuracy (themes found and labelled): "
        f"{_pct(result.theme_sentiment_accuracy)}"
    )
    print(f"comment sentiment accuracy: {_pct(result.sentiment_accuracy)}")
    per_comment = best * 1000 / max(1, len(labelled))
    print(f"ms per comment: {per_comment:.3f} (one-time tokenizer load {load_ms:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
