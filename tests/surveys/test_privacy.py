"""Masking personal data typed into comments: Chinese and international formats."""

from __future__ import annotations

import pytest

from surveys.privacy import mask_personal_data


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("请打 13812345678 谢谢", "13812345678"),
        ("电话13912345678。", "1391234"),
        ("+86 138 1234 5678", "138 1234"),
        ("+86-138-1234-5678", "138-1234"),
        ("8613812345678", "13812345"),
        ("008613812345678", "13812345"),
        ("手机：159-8888-6666 找王女士", "159-8888"),
        ("call me on +44 20 7946 0958", "20 7946"),
        ("US +1 (415) 555-2671", "415) 555"),
        ("+49 30 1234567", "1234567"),
        ("我的邮箱 zhang.san@example.com", "zhang.san@"),
        ("mail First.Last+tag@mail.example.co.uk please", "First.Last+tag@"),
        ("身份证号11010519491231002X", "11010519491231"),
        ("ID 110105194912310021 thanks", "11010519491231"),
        ("卡号 6222 0212 3456 7890 123", "6222 0212 3456"),
        ("card 4111-1111-1111-1111", "4111-1111-1111"),
        ("card 4111111111111111", "411111111111"),
    ],
)
def test_personal_data_is_masked(text: str, secret: str) -> None:
    masked = mask_personal_data(text)
    assert secret not in masked
    assert "*" in masked


@pytest.mark.parametrize(
    "text",
    [
        "排队等了20分钟，收银员很热情",
        "waited 20 minutes, 3 staff, aisle 12",
        "收据日期 2026-05-01 金额 128.50",
        "price +1 yuan",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text


def test_masking_keeps_the_last_four_digits_and_the_mail_domain() -> None:
    assert mask_personal_data("13812345678") == "*******5678"
    assert mask_personal_data("a.b@example.com") == "a***@example.com"
    assert mask_personal_data(None) == ""
