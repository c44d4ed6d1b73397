"""What a text message says and how long it is: the two messages' wording in zh-CN and en,
the segment count a phone network bills, a customer's number as E.164, and the words that
opt a number out of text messages or back in. Pure functions: no Flask, no database.

The wording lives here, not in the translation catalogue, because its length is a promise:
a message that needs two segments costs twice and may arrive in pieces, so every variant is
measured (`tests/portal/sms/test_text.py`). Each kind has variants from the fullest (with
the chain's name, the store's name) to the barest; `render_sms` takes the first that fits
one segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class SmsKind(StrEnum):
    """What a text message is for."""

    #: The case's one-question recovery link, after the case is resolved.
    FOLLOW_UP = "follow_up"
    #: "The store manager will call you about your feedback", before a return visit call.
    RETURN_VISIT = "return_visit"


#: One segment: 160 GSM-7 characters, or 70 UCS-2 characters (any Chinese in the text).
GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

#: The GSM 03.38 basic character set, and its extension table (each costs two septets).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class Segments:
    """How a text travels: ``gsm7`` or ``ucs2``, its length in that encoding's units, and
    the number of segments (one message of several parts when above one)."""

    encoding: str
    length: int
    count: int


def sms_segments(text: str) -> Segments:
    """The encoding and segment count of ``text`` as a phone network sends it.

    GSM-7 when every character is in the GSM 03.38 set (the extension characters count
    twice): 160 in one segment, 153 per part beyond. Otherwise UCS-2, counted in UTF-16
    units (an emoji is two): 70 in one segment, 67 per part beyond.
    """
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        length = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, part, encoding = GSM_SINGLE, GSM_PART, "gsm7"
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, part, encoding = UCS2_SINGLE, UCS2_PART, "ucs2"
    count = 1 if length <= single else -(-length // part)
    return Segments(encoding, length, count)


#: (kind, language) -> variants from the fullest to the barest. Placeholders: {chain},
#: {store}, {link}; a variant naming one is skipped when it is empty.
TEMPLATES: dict[tuple[SmsKind, str], tuple[str, ...]] = {
    (SmsKind.FOLLOW_UP, "zh"): (
        "【{chain}】问题解决了吗？点链接答一题：{link} 回TD退订",
        "问题解决了吗？点链接答一题：{link} 回TD退订",
    ),
    (SmsKind.FOLLOW_UP, "en"): (
        "{chain}: Was your problem solved? Answer one question: {link} Reply STOP to opt out",
        "Was your problem solved? Answer one question: {link} Reply STOP to opt out",
    ),
    (SmsKind.RETURN_VISIT, "zh"): (
        "【{chain}】{store}店长将致电回访您的反馈，请留意来电。回TD退订",
        "【{chain}】门店店长将致电回访您的反馈，请留意来电。回TD退订",
        "{store}店长将致电回访您的反馈，请留意来电。回TD退订",
        "门店店长将致电回访您的反馈，请留意来电。回TD退订",
    ),
    (SmsKind.RETURN_VISIT, "en"): (
        "{chain}: The store manager will call you soon about your feedback. Reply STOP to opt out",
        "The store manager will call you soon about your feedback. Reply STOP to opt out",
    ),
}


@dataclass(frozen=True, slots=True)
class SmsText:
    body: str
    segments: Segments


def render_sms(
    kind: SmsKind, locale: str, *, link: str = "", chain: str = "", store: str = ""
) -> SmsText:
    """The text of a ``kind`` message in ``locale`` (``zh_CN``/``zh-CN`` or ``en``).

    The first variant of `TEMPLATES` that fits one segment, with the chain's and the
    store's name when they fit; when none fits (a long ``link``), the barest, with its
    segment count reported. Names are put on one line; a name needed by a variant but
    empty skips that variant.
    """
    language = "zh" if locale.replace("-", "_").startswith("zh") else "en"
    values = {"chain": _one_line(chain), "store": _one_line(store), "link": link.strip()}
    candidates = [
        variant.format(**values)
        for variant in TEMPLATES[(kind, language)]
        if all(values[name] for name in _placeholders(variant))
    ]
    texts = [SmsText(body, sms_segments(body)) for body in candidates]
    return next((text for text in texts if text.segments.count == 1), texts[-1])


def _placeholders(variant: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", variant)


def _one_line(name: str) -> str:
    return " ".join(name.split())


def mobile_number(raw: str | None) -> str | None:
    """The number as E.164 (``+8613800138000``) when it can receive a text message, else
    None.

    An 11-digit Chinese mobile number (1[3-9]…) gets +86; a number written with + or 00 and
    its country code is kept as it is; anything else (a landline without country code, an
    extension, letters) is None: the portal does not guess a country.
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text or re.search(r"[^0-9+()\-. \u00a0]", text):
        return None
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif re.fullmatch(r"1[3-9]\d{9}", digits):
        international = "86" + digits
    else:
        return None
    if international.startswith("86") and not re.fullmatch(r"861[3-9]\d{9}", international):
        return None  # a Chinese landline or a mistyped mobile number
    if not re.fullmatch(r"[1-9]\d{7,14}", international):
        return None
    return "+" + international


class Reply(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


#: Replies that stop text messages: the carriers' Chinese words and Twilio's English ones.
OPT_OUT_WORDS = frozenset(
    {"TD", "T", "退订", "退定", "取消", "取消订阅", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL"}
    | {"END", "QUIT", "OPTOUT", "REVOKE"}
)
#: Replies that start them again.
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "订阅"})


def reply_word(body: str) -> tuple[Reply, str] | None:
    """Whether a customer's reply opts out or back in, and the word as matched (upper
    case). The whole reply must be the word, apart from blanks, case and trailing
    punctuation ("td", " 退订。", "Stop!"); a sentence that merely contains it is not."""
    word = body.strip().strip("。.!！?？,，、~～ \u3000").upper()
    word = " ".join(word.split())
    if word in OPT_OUT_WORDS:
        return Reply.OPT_OUT, word
    if word in OPT_IN_WORDS:
        return Reply.OPT_IN, word
    return None
