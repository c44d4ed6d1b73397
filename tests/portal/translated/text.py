"""What a reader sees of a page, and the words on it that are in the wrong language.

`visible_texts` keeps the text nodes and the attributes a reader meets (title,
placeholder, aria-label, alt, a button's value) and leaves out scripts, styles, code
samples (``<pre>``, ``<code>``) and anything marked with another ``lang`` than the page's
(the language switch names the other language in that language, on purpose).

`Checker` finds, on a Chinese page, Latin words that are not acronyms, and on an English
page, Chinese characters, and on both internal keys (``snake_case``); text that is the
world's own data (a customer's English comment, a store's Chinese name) is let through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

#: Elements whose content is not read as page text.
SKIPPED = frozenset(
    {"script", "style", "pre", "code", "kbd", "samp", "template", "svg", "metadata"}
)
#: Attributes a reader meets: tooltips, hints, labels for screen readers, image text.
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)

#: Latin words that stay Latin on a Chinese page besides all-capital acronyms (NPS, CSAT,
#: POS, QR, ID, URL, CSV, XLSX, API, HR...): the product Excel and the names of the
#: statisticians a method is called after. Keep this list short.
LATIN_ALLOWED = frozenset({"Excel", "Benjamini", "Hochberg", "Spearman", "Wald", "Ctrl"})
CJK = re.compile(
    r"[\u2e80-\u2fff\u3040-\u9fff\uf900-\ufaff]+(?:[\s\u3000]+[\u2e80-\u2fff\u3040-\u9fff\uf900-\ufaff]+)*"
)
LATIN_RUN = re.compile(r"[A-Za-z][\w'’]*(?:[ ,.:;!?()/&'’+-]+[A-Za-z][\w'’]*)*")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")
SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
#: E-mail addresses and links: data, or a URL to copy.
ADDRESSES = re.compile(
    r"\S+@\S+\.\w+|https?://\S+|\b[\w.-]+\.example\b|\b[\w-]+\.(?:csv|xlsx|svg|png|pdf)\b"
)
#: Runs at least this long may be a cut excerpt of data; shorter ones must be a whole
#: data string (a short label such as 门店 would too easily be part of some comment).
EXCERPT_MIN = 8


class _Reader(HTMLParser):
    def __init__(self, page_lang: str, skipped: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.page_lang = page_lang
        self.skipped = skipped
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    @property
    def hidden(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        lang = (found.get("lang") or "").lower()
        other_lang = bool(lang) and tag != "html" and not lang.startswith(self.page_lang)
        skip = tag in self.skipped or other_lang
        if not self.hidden and not skip:
            self.texts.extend(v for a in READ_ATTRIBUTES if (v := found.get(a)))
            kind = (found.get("type") or "").lower()
            if tag == "input" and kind in ("submit", "button", "reset") and found.get("value"):
                self.texts.append(str(found["value"]))
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.texts.append(data)


def page_language(page: str) -> str:
    match = re.search(r'<html[^>]*\blang="([^"]+)"', page)
    return match.group(1) if match else ""


def visible_texts(page: str, lang: str, *, svg: bool = False) -> list[str]:
    """The page's text nodes and read attributes, each with its blanks collapsed; ``svg``
    for a chart (whose text is its whole point, unlike an icon inside a page)."""
    skipped = SKIPPED - {"svg"} if svg else SKIPPED
    reader = _Reader("zh" if lang.startswith("zh") else "en", skipped)
    reader.feed(page)
    reader.close()
    return [" ".join(t.split()) for t in reader.texts]


@dataclass
class Checker:
    """Finds the wrong-language words in texts, letting the world's data through."""

    data: set[str]

    def __post_init__(self) -> None:
        self.blob = "\x00".join(sorted(self.data))
        self.known: dict[str, bool] = {}

    def is_data(self, text: str) -> bool:
        text = text.strip().rstrip("…").strip()
        if text in self.known:
            return self.known[text]
        found = text in self.data or (len(text) >= EXCERPT_MIN and text in self.blob)
        self.known[text] = found
        return found

    def offences(self, texts: Iterable[str], lang: str) -> list[str]:
        found: list[str] = []
        for text in texts:
            if self.is_data(text):
                continue
            text = ADDRESSES.sub(" ", text)
            found += [k for k in SNAKE.findall(text) if not self.is_data(k)]
            text = SNAKE.sub(" ", text)
            if lang.startswith("zh"):
                found += [run for run in LATIN_RUN.findall(text) if self._foreign_latin(run)]
            else:
                found += [run for run in CJK.findall(text) if not self.is_data(run)]
        return found

    def _foreign_latin(self, run: str) -> bool:
        words = [
            w
            for w in WORD.findall(run)
            if not (w.isupper() and len(w) <= 6) and w not in LATIN_ALLOWED
        ]
        return bool(words) and not self.is_data(run)
