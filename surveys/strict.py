"""The one strict reading of numbers and text typed by people or sent by tills.

Numbers are read from exactly the characters a field offers: ASCII digits, a leading minus
only where negatives make sense, one decimal point only where decimals do. Python's own
``int``/``float``/``Decimal`` are lenient: ``int("1_0")`` is 10, ``int("１０")`` and
``int("१०")`` are 10, ``int(" 5 ")`` is 5, ``float("nan")``, ``float("inf")`` and
``Decimal("sNaN")`` are numbers, ``float("1e3")`` is 1000. None of that passes here.

Text: every field refuses NUL and unpaired surrogates; single-line fields (names, labels,
e-mail addresses, codes, transaction ids) also refuse line breaks and control characters.
Right-to-left and other format characters are allowed; the pages isolate them when shown.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

_INTEGER = re.compile(r"[0-9]{1,18}", re.ASCII)
_SIGNED_INTEGER = re.compile(r"-?[0-9]{1,18}", re.ASCII)
_DECIMAL = re.compile(r"(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})", re.ASCII)
_SIGNED_DECIMAL = re.compile(r"-?(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})", re.ASCII)

#: Line breaks besides the control characters CR, LF, VT, FF, NEL.
_LINE_SEPARATORS = {"\u2028", "\u2029"}


class NotANumber(ValueError):
    """The text is not a number in the characters the field offers."""


def parse_int(text: str, *, negative: bool = False) -> int:
    """``text`` as a whole number of ASCII digits (a leading ``-`` when ``negative``)."""
    pattern = _SIGNED_INTEGER if negative else _INTEGER
    if not isinstance(text, str) or pattern.fullmatch(text) is None:
        raise NotANumber(text)
    return int(text)


def int_or_none(text: str) -> int | None:
    """`parse_int` for callers that keep a non-number as text: ``None`` instead of raising."""
    try:
        return parse_int(text)
    except NotANumber:
        return None


def parse_decimal(text: str, *, negative: bool = False) -> Decimal:
    """``text`` as a finite decimal: ASCII digits with at most one ``.`` (and a leading
    ``-`` when ``negative``); no exponent, no NaN, no infinity."""
    pattern = _SIGNED_DECIMAL if negative else _DECIMAL
    if not isinstance(text, str) or pattern.fullmatch(text) is None:
        raise NotANumber(text)
    return Decimal(text)


def text_problem(text: str, *, single_line: bool) -> str | None:
    """Why ``text`` may not be stored, or ``None``: ``"nul"``, ``"surrogate"`` (an unpaired
    surrogate, which no UTF-8 can carry), and for single-line fields ``"line_break"`` or
    ``"control"``."""
    for char in text:
        if char == "\x00":
            return "nul"
        category = unicodedata.category(char)
        if category == "Cs":
            return "surrogate"
        if single_line:
            if char in "\r\n\v\f\x85" or char in _LINE_SEPARATORS:
                return "line_break"
            if category == "Cc":
                return "control"
    return None
