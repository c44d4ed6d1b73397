"""The comment taxonomy as data: ``taxonomy.yaml`` read into frozen dataclasses.

The YAML file is the one place the themes and their words live (docs/comment-themes.md
explains its format); this module only reads and checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

#: The taxonomy's groups, in the order the pages list them.
GROUPS: tuple[str, ...] = ("servqual", "touchpoint", "topic")
LANGUAGES: tuple[str, ...] = ("zh", "en")


@dataclass(frozen=True, slots=True)
class Cue:
    """A word or phrase that says a comment is about a theme.

    ``polarity`` is +1 or -1 when the cue judges by itself (干净, 缺货), else 0. A ``weak``
    cue (written ``~word``: 店员, 东西) names the theme only when one of the theme's own
    judging words is near it (店员很热情 is about attitude, 店员帮我找 is not).
    """

    text: str
    polarity: int
    weak: bool = False


@dataclass(frozen=True, slots=True)
class Theme:
    """One theme: its key, group, what it covers, cues and own judging words."""

    key: str
    group: str
    covers: str
    cues: tuple[Cue, ...]
    positive: tuple[str, ...]
    negative: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Words that judge, negate, intensify or start a new clause, in every theme."""

    positive: tuple[str, ...]
    negative: tuple[str, ...]
    negators: tuple[str, ...]
    intensifiers: tuple[str, ...]
    contrasts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The whole taxonomy: its version, themes in order, and the shared lexicon."""

    version: int
    themes: tuple[Theme, ...]
    lexicon: Lexicon

    @property
    def keys(self) -> tuple[str, ...]:
        """The theme keys in the file's order."""
        return tuple(theme.key for theme in self.themes)


def _words(entry: Any, name: str) -> tuple[str, ...]:
    """Both languages' words of ``entry`` (a mapping of zh/en to lists), checked."""
    if entry is None:
        return ()
    if not isinstance(entry, dict) or set(entry) - set(LANGUAGES):
        raise ValueError(f"{name}: expected a mapping of zh/en to word lists")
    words: list[str] = []
    for language in LANGUAGES:
        for word in entry.get(language) or ():
            if not isinstance(word, str) or not word.strip():
                raise ValueError(f"{name}: {word!r} is not a word")
            words.append(word.strip())
    return tuple(words)


def _cue(text: str) -> Cue:
    if text[0] in "+-" and len(text) > 1:
        return Cue(text[1:], 1 if text[0] == "+" else -1)
    if text[0] == "~" and len(text) > 1:
        return Cue(text[1:], 0, weak=True)
    return Cue(text, 0)


def parse_taxonomy(data: Any) -> Taxonomy:
    """Build a `Taxonomy` from the YAML document's data, refusing malformed entries.

    Parameters
    ----------
    data : object
        What ``yaml.safe_load`` returned for a taxonomy file.

    Returns
    -------
    Taxonomy

    Raises
    ------
    ValueError
        A missing version, an unknown group, a theme without cues in both languages.
    """
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise ValueError("the taxonomy needs an integer version")
    themes = []
    for key, entry in (data.get("themes") or {}).items():
        if entry.get("group") not in GROUPS:
            raise ValueError(f"{key}: unknown group {entry.get('group')!r}")
        for language in LANGUAGES:
            if not entry.get(language):
                raise ValueError(f"{key}: no {language} cues")
        cues = _words({lang: entry[lang] for lang in LANGUAGES}, key)
        themes.append(
            Theme(
                key=key,
                group=entry["group"],
                covers=str(entry.get("covers", "")),
                cues=tuple(_cue(text) for text in cues),
                positive=_words(entry.get("positive"), f"{key}.positive"),
                negative=_words(entry.get("negative"), f"{key}.negative"),
            )
        )
    words = data.get("sentiment") or {}
    lexicon = Lexicon(
        *(
            _words(words.get(part), part)
            for part in ("positive", "negative", "negators", "intensifiers", "contrasts")
        )
    )
    return Taxonomy(version=data["version"], themes=tuple(themes), lexicon=lexicon)


@cache
def load_taxonomy() -> Taxonomy:
    """The taxonomy shipped with the package (``analysis/themes/taxonomy.yaml``), read once."""
    text = resources.files("analysis.themes").joinpath("taxonomy.yaml").read_text("utf-8")
    return parse_taxonomy(yaml.safe_load(text))
