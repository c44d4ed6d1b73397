"""Turning a comment into clauses of tokens: jieba for Chinese, words for English.

A private ``jieba.Tokenizer`` (never the global one, which other code may tune) loads
jieba's dictionary, the retail user dictionary ``retail_dict.txt`` and every phrase of
the taxonomy, lazily and once per process, so that 收银员, 会员卡 or 没人理 are one token.
English words come out of the same tokenizer (jieba keeps runs of letters together); they
are lower-cased and their plural and -ing/-ed endings stripped.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from importlib import resources

import jieba

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_extra_words: tuple[str, ...] = ()

# Clause boundaries: sentence and list punctuation in both scripts (after NFKC, full-width
# marks are ASCII ones) and line breaks. The contrast words (但是, but) are split on later,
# as tokens, so that 但 inside a word does not split it.
_CLAUSE = re.compile(r"[,.!?;:~\n\r\t。！？；：、…()\[\]“”\"]+")
_NOT = re.compile(r"n't\b|n’t\b")
_ASCII_WORD = re.compile(r"^[a-z][a-z0-9-]*$")


def stem(word: str) -> str:
    """A light English stem: plurals, -ing and -ed go, doubled consonants are undone.

    >>> [stem(w) for w in ("queues", "waiting", "shopping", "cashiers", "charged", "was")]
    ['queue', 'wait', 'shop', 'cashier', 'charge', 'was']
    """
    if not _ASCII_WORD.match(word) or len(word) <= 3:
        return word
    for suffix, keep in (("ing", 4), ("ed", 4)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep - 1:
            base = word[: -len(suffix)]
            if len(base) >= 3 and base[-1] == base[-2] and base[-1] not in "lsz":
                return base[:-1]
            if base.endswith("u") or (
                suffix == "ed" and base.endswith(("rg", "ag", "ur", "iv", "uc", "ar"))
            ):
                return base + "e"
            return base if len(base) >= 3 else word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        return word[:-1]
    return word


def _new_tokenizer(words: Iterable[str]) -> jieba.Tokenizer:
    # jieba logs its dictionary loading at DEBUG to stderr through its own handler.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    # A file object, not a path: jieba never closes a file it opened itself.
    data = resources.files("analysis.themes").joinpath("retail_dict.txt").read_bytes()
    tokenizer.load_userdict(io.BytesIO(data))
    for word in words:
        if len(word) > 1 and not word.isascii():
            # Enough frequency that the phrase comes out whole wherever it appears.
            tokenizer.suggest_freq(word, tune=True)
    return tokenizer


def configure(words: Iterable[str]) -> None:
    """Set the phrases the tokenizer must keep whole (the taxonomy's); before first use."""
    global _extra_words
    _extra_words = tuple(words)


def tokenizer() -> jieba.Tokenizer:
    """The private tokenizer, built on first use (about a second), then shared."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _new_tokenizer(_extra_words)
    return _tokenizer


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), lower case, "n't" spelt as " not"."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _NOT.sub(" not", text.replace("cannot", "can not"))
    return text.replace("won not", "will not")


def tokens(text: str) -> list[str]:
    """The tokens of one piece of already normalised text (no spaces, English stemmed)."""
    out = []
    for token in tokenizer().cut(text, HMM=False):
        token = token.strip().strip("'’-")
        if token:
            out.append(stem(token))
    return out


def segments(text: str) -> list[str]:
    """Pieces of ``text`` between punctuation marks (normalised first)."""
    return [part for part in _CLAUSE.split(normalise(text)) if part.strip()]
