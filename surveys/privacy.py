"""Masking personal data that shoppers type into free text (PIPL: minimum data).

A comment such as "call me on 138 1234 5678" must not show the number on a store page, in
an export or in a mail. `mask_personal_data` is the one pure function every place that
shows, exports or mails a comment goes through (the ``mask_personal`` Jinja filter, the
export rows, the case notification). It recognises:

- e-mail addresses;
- Chinese 18-digit ID-card numbers (the last character may be ``X``);
- Chinese mobile numbers ``1[3-9]`` + 9 digits, with an optional ``+86``/``86``/``0086``
  prefix and spaces or dashes between the digits;
- international numbers written with ``+`` and a country code;
- bank-card numbers of 13 to 19 digits, possibly grouped by spaces or dashes.

Digits are replaced by ``*`` except the last four (``*** **** 5678``), as receipts show
card numbers; an e-mail keeps its first character and its domain (``z***@example.com``).
"""

from __future__ import annotations

import re

#: Characters that may separate digit groups inside one number.
_SEP = r"[ \u00a0\-‐-―－]?"
_NOT_DIGIT_BEFORE = r"(?<![0-9A-Za-z０-９])"
_NOT_DIGIT_AFTER = r"(?![0-9A-Za-z０-９])"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_ID_CARD = re.compile(
    _NOT_DIGIT_BEFORE + r"\d{6}" + _SEP + r"\d{8}" + _SEP + r"\d{3}[\dXx]" + _NOT_DIGIT_AFTER
)
_CN_MOBILE = re.compile(
    _NOT_DIGIT_BEFORE + r"(?:(?:\+|00)?86" + _SEP + r")?1[3-9]\d(?:" + _SEP + r"\d){8}" + r"(?!\d)"
)
_INTERNATIONAL = re.compile(r"(?:\+|(?<![0-9])00)[1-9]\d{0,2}(?:" + _SEP + r"\(?\d+\)?){1,6}")
_CARD = re.compile(_NOT_DIGIT_BEFORE + r"\d(?:" + _SEP + r"\d){12,18}" + r"(?!\d)")


def _mask_digits(match: re.Match[str]) -> str:
    text = match.group(0)
    keep = 4
    positions = [i for i, char in enumerate(text) if char.isdigit() or char in "Xx"]
    hidden = set(positions[:-keep]) if len(positions) > keep else set(positions)
    return "".join("*" if i in hidden else char for i, char in enumerate(text))


def _mask_international(match: re.Match[str]) -> str:
    digits = sum(char.isdigit() for char in match.group(0))
    # "+1 5" is not a phone number: only mask what has the length of one.
    return _mask_digits(match) if digits >= 7 else match.group(0)


def _mask_email(match: re.Match[str]) -> str:
    local, _at, domain = match.group(0).partition("@")
    return f"{local[0]}***@{domain}"


def mask_personal_data(text: str | None) -> str:
    """``text`` with e-mail addresses, phone, ID-card and bank-card numbers masked."""
    if not text:
        return ""
    text = _EMAIL.sub(_mask_email, text)
    text = _ID_CARD.sub(_mask_digits, text)
    text = _CN_MOBILE.sub(_mask_digits, text)
    text = _INTERNATIONAL.sub(_mask_international, text)
    return _CARD.sub(_mask_digits, text)
