"""The text messages' wording and length (pure functions): every zh-CN message fits one
70-character segment with a realistic link, segments are counted as networks bill them,
numbers become E.164 or nothing, and only a whole opt-out word opts out."""

from __future__ import annotations

import pytest

from portal.sms.text import (
    TEMPLATES,
    Reply,
    Segments,
    SmsKind,
    mobile_number,
    render_sms,
    reply_word,
    sms_segments,
)

#: The follow-up link a text carries: the base URL, ``/s/`` and the 16-character link id
#: (`surveys.tokens.new_token_id`: 12 random bytes in URL-safe base64).
LINK_ID = "Zx3_kP9-aQ2mW7rT"
#: The longest base URL the docs promise one segment for (31 characters).
LONGEST_BASE = "https://feedback.haoyouduo.shop"


def _link(base: str) -> str:
    return f"{base}/s/{LINK_ID}"


def test_the_promised_base_url_is_31_characters():
    assert len(LONGEST_BASE) == 31 and len(LINK_ID) == 16


@pytest.mark.parametrize("base", ["http://127.0.0.1:5000", "https://fb.hyd.cn", LONGEST_BASE])
def test_the_zh_follow_up_fits_one_segment_with_a_realistic_link(base):
    text = render_sms(SmsKind.FOLLOW_UP, "zh_CN", link=_link(base), chain="好又多超市")
    assert text.segments.encoding == "ucs2"
    assert text.segments.count == 1 and len(text.body) <= 70, text.body
    assert _link(base) in text.body and "回TD退订" in text.body


def test_the_chain_name_is_kept_when_it_fits_and_dropped_when_it_does_not():
    short = render_sms(SmsKind.FOLLOW_UP, "zh_CN", link=_link("https://fb.hyd.cn"), chain="好又多")
    assert short.body.startswith("【好又多】")
    long = render_sms(SmsKind.FOLLOW_UP, "zh_CN", link=_link(LONGEST_BASE), chain="好又多超市")
    assert not long.body.startswith("【") and long.segments.count == 1


def test_a_base_url_longer_than_promised_is_reported_as_two_segments():
    base = LONGEST_BASE + "/x"
    text = render_sms(SmsKind.FOLLOW_UP, "zh_CN", link=_link(base))
    assert text.segments.count == 2 and _link(base) in text.body


@pytest.mark.parametrize("store", ["徐汇店", "上海浦东新区张江高科技园区旗舰店二号店"])
def test_the_zh_return_visit_notice_fits_one_segment_with_any_names(store):
    text = render_sms(
        SmsKind.RETURN_VISIT, "zh_CN", chain="好又多超市连锁股份有限公司", store=store
    )
    assert text.segments.count == 1 and len(text.body) <= 70, text.body
    assert "店长将致电回访" in text.body


def test_the_store_name_is_used_when_it_fits():
    text = render_sms(SmsKind.RETURN_VISIT, "zh_CN", chain="好又多", store="徐汇店")
    assert text.body == "【好又多】徐汇店店长将致电回访您的反馈，请留意来电。回TD退订"


def test_without_branding_the_store_name_still_says_who_calls():
    text = render_sms(SmsKind.RETURN_VISIT, "zh_CN", store="徐汇店")
    assert text.body == "徐汇店店长将致电回访您的反馈，请留意来电。回TD退订"
    bare = render_sms(SmsKind.RETURN_VISIT, "zh_CN")
    assert bare.body == "门店店长将致电回访您的反馈，请留意来电。回TD退订"


@pytest.mark.parametrize("kind", list(SmsKind))
def test_the_english_messages_are_plain_gsm_in_one_segment(kind):
    text = render_sms(kind, "en", link=_link(LONGEST_BASE), chain="Haoyouduo Markets")
    assert text.segments.encoding == "gsm7" and text.segments.count == 1
    assert text.body.startswith("Haoyouduo Markets: ") and "Reply STOP" in text.body


def test_a_chinese_chain_name_in_an_english_message_does_not_make_it_two_segments():
    # Branding may have only a Chinese name: then the UCS-2 limit applies and the name goes.
    text = render_sms(SmsKind.FOLLOW_UP, "en", link=_link(LONGEST_BASE), chain="好又多超市")
    assert text.segments.count == 1 and "好又多" not in text.body


def test_every_variant_names_only_known_placeholders():
    for variants in TEMPLATES.values():
        for variant in variants:
            # An unknown placeholder raises KeyError; none is left unfilled.
            filled = variant.format(chain="c", store="s", link="l")
            assert "{" not in filled and "}" not in filled


@pytest.mark.parametrize(
    ("text", "encoding", "length", "count"),
    [
        ("", "gsm7", 0, 1),
        ("a" * 160, "gsm7", 160, 1),
        ("a" * 161, "gsm7", 161, 2),
        ("a" * 306, "gsm7", 306, 2),
        ("a" * 307, "gsm7", 307, 3),
        ("€" * 80, "gsm7", 160, 1),  # the extension table costs two septets
        ("[" * 81, "gsm7", 162, 2),
        ("好" * 70, "ucs2", 70, 1),
        ("好" * 71, "ucs2", 71, 2),
        ("好" * 134, "ucs2", 134, 2),
        ("好" * 135, "ucs2", 135, 3),
        ("a" * 69 + "😀", "ucs2", 71, 2),  # an emoji is two UTF-16 units
    ],
)
def test_segments_are_counted_as_networks_bill_them(text, encoding, length, count):
    assert sms_segments(text) == Segments(encoding, length, count)


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("021-6234 5678", None),  # a Shanghai landline without country code
        ("+86 21 6234 5678", None),  # a Chinese landline
        ("12345678901", None),  # not a Chinese mobile prefix
        ("1380013800", None),  # one digit short
        ("13800138000 ext 2", None),
        ("", None),
        (None, None),
    ],
)
def test_mobile_numbers_become_e164_and_others_nothing(raw, number):
    assert mobile_number(raw) == number


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("TD", (Reply.OPT_OUT, "TD")),
        (" td ", (Reply.OPT_OUT, "TD")),
        ("退订", (Reply.OPT_OUT, "退订")),
        ("退订。", (Reply.OPT_OUT, "退订")),
        ("Stop!", (Reply.OPT_OUT, "STOP")),
        ("unsubscribe", (Reply.OPT_OUT, "UNSUBSCRIBE")),
        ("start", (Reply.OPT_IN, "START")),
        ("Please stop calling me about the refund", None),
        ("谢谢，问题已解决", None),
        ("", None),
    ],
)
def test_only_a_whole_reply_word_opts_out_or_in(body, expected):
    assert reply_word(body) == expected
