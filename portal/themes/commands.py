"""``classify-comment`` (what the classifier makes of a text, as JSON) and
``reclassify-comments`` (stored answers classified again after the taxonomy changed)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from analysis.themes import TAXONOMY_VERSION, classify
from portal.commands import transaction
from portal.themes.classify import count_to_reclassify, reclassify_batch


@click.command("classify-comment")
@click.argument("text")
def classify_comment_command(text: str) -> None:
    """Print the themes and sentiment of TEXT as one JSON object."""
    result = classify(text)
    payload = {
        "themes": [{"theme": hit.theme, "sentiment": hit.sentiment} for hit in result.themes],
        "sentiment": result.sentiment,
    }
    click.echo(json.dumps(payload, ensure_ascii=False))


@click.command("reclassify-comments")
@click.option("--all", "everything", is_flag=True, help="Every comment, not only older versions.")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def reclassify_comments_command(everything: bool, batch: int) -> None:
    """Classify stored comments again: those of an older taxonomy version (or --all).

    Each batch is committed, so the command can be stopped and run again to go on.
    """
    with transaction(read_only=True) as session:
        total = count_to_reclassify(session, everything=everything)
    done, after_id = 0, 0
    label = f"Classifying comments (taxonomy version {TAXONOMY_VERSION})"
    with click.progressbar(length=total, label=label) as bar:
        while True:
            with transaction() as session:
                step = reclassify_batch(
                    session, after_id=after_id, size=batch, everything=everything
                )
            if not step.count:
                break
            done, after_id = done + step.count, step.last_id
            bar.update(step.count)
    click.echo(f"{done} comment(s) classified with taxonomy version {TAXONOMY_VERSION}.")
