"""The signed "survey page opened at" stamp the survey form carries (the expiry grace)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys.tokens import ForgedToken, sign_opened_stamp, verify_opened_stamp

KEY = "stamp-test-key"
OPENED = datetime(2026, 3, 1, 9, 30, 15, 999_999, tzinfo=UTC)


def test_a_stamp_gives_back_when_the_page_was_opened_to_the_second():
    stamp = sign_opened_stamp(KEY, "receipt-1", OPENED)
    assert verify_opened_stamp(KEY, stamp, "receipt-1") == OPENED.replace(microsecond=0)


@pytest.mark.parametrize(
    ("key", "token_id", "alter"),
    [
        ("another-key", "receipt-1", lambda s: s),  # not signed by us
        (KEY, "receipt-2", lambda s: s),  # made for another receipt
        (KEY, "receipt-1", lambda s: "0" + s),  # an earlier time put in front
        (KEY, "receipt-1", lambda s: s.split(".")[0]),  # no signature
        (KEY, "receipt-1", lambda s: s + "x" * 200),  # too long
        (KEY, "receipt-1", lambda s: s.replace(".", "+")),  # characters a stamp never has
    ],
)
def test_a_stamp_for_another_receipt_key_or_time_is_refused(key, token_id, alter):
    stamp = alter(sign_opened_stamp(KEY, "receipt-1", OPENED))
    with pytest.raises(ForgedToken):
        verify_opened_stamp(key, stamp, token_id)


def test_a_naive_time_is_a_programming_error():
    with pytest.raises(ValueError):
        sign_opened_stamp(KEY, "receipt-1", OPENED.replace(tzinfo=None))
