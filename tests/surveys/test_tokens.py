"""Tests for signed receipt tokens (surveys.tokens)."""

import re
import string
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import Signer

from surveys.tokens import (
    MAX_TOKEN_LENGTH,
    ExpiredToken,
    ForgedToken,
    ReceiptTokenClaims,
    TokenError,
    new_token_id,
    sign_receipt_token,
    verify_receipt_token,
)

SECRET = "test-secret-key"
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
EXPIRES = datetime(2025, 4, 1, 12, 0, 0, tzinfo=UTC)
TOKEN_CHARS = string.ascii_letters + string.digits + "_-."


@pytest.fixture
def token() -> str:
    return sign_receipt_token(SECRET, "AbCd_efGH-ijKLmn", EXPIRES)


def test_signed_token_verifies_to_its_id_and_expiry(token):
    claims = verify_receipt_token(SECRET, token, NOW)
    assert claims == ReceiptTokenClaims(token_id="AbCd_efGH-ijKLmn", expires_at=EXPIRES)
    assert claims.expires_at.tzinfo is not None
    assert claims.expires_at.utcoffset() == timedelta(0)


def test_token_has_id_base36_expiry_and_signature_parts(token):
    token_id, expiry, signature = token.split(".")
    assert token_id == "AbCd_efGH-ijKLmn"
    assert int(expiry, 36) == int(EXPIRES.timestamp())
    assert re.fullmatch(r"[0-9a-z]+", expiry)
    assert re.fullmatch(r"[A-Za-z0-9_\-]+", signature)


def test_signing_is_deterministic(token):
    assert sign_receipt_token(SECRET, "AbCd_efGH-ijKLmn", EXPIRES) == token


def test_signing_drops_microseconds_and_reports_utc():
    paris = timezone(timedelta(hours=1))
    local = datetime(2025, 4, 1, 13, 0, 0, 987654, tzinfo=paris)
    claims = verify_receipt_token(SECRET, sign_receipt_token(SECRET, "x" * 16, local), NOW)
    assert claims.expires_at == datetime(2025, 4, 1, 12, 0, 0, tzinfo=UTC)
    assert claims.expires_at.microsecond == 0
    assert claims.expires_at.tzinfo == UTC
    # The same instant with and without microseconds gives the same token.
    assert sign_receipt_token(SECRET, "x" * 16, local) == sign_receipt_token(
        SECRET, "x" * 16, local.replace(microsecond=0)
    )


def test_naive_expiry_is_refused_when_signing():
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_receipt_token(SECRET, new_token_id(), datetime(2025, 4, 1, 12, 0, 0))


def test_expiry_before_1970_is_refused_when_signing():
    with pytest.raises(ValueError, match="1970"):
        sign_receipt_token(SECRET, new_token_id(), datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC))


@pytest.mark.parametrize("token_id", ["", "has.dot", "has space", "x" * 65, "ümlaut"])
def test_token_id_that_would_break_the_format_is_refused(token_id):
    with pytest.raises(ValueError, match="token_id"):
        sign_receipt_token(SECRET, token_id, EXPIRES)


def test_naive_now_is_refused_when_verifying(token):
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_receipt_token(SECRET, token, datetime(2025, 3, 1, 12, 0, 0))


def test_altered_token_is_rejected_as_forged(token):
    # Exhaustive: every position, every other character a token may contain. This
    # includes the last signature character, whose spare base64 bits a plain
    # Signer.unsign would ignore.
    for position, original in enumerate(token):
        for replacement in TOKEN_CHARS:
            if replacement == original:
                continue
            altered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(ForgedToken):
                verify_receipt_token(SECRET, altered, NOW)


def test_truncated_or_extended_token_is_rejected_as_forged(token):
    for cut in range(len(token)):
        with pytest.raises(ForgedToken):
            verify_receipt_token(SECRET, token[:cut], NOW)
    for suffix in ("a", ".", ".a", "-"):
        with pytest.raises(ForgedToken):
            verify_receipt_token(SECRET, token + suffix, NOW)


def test_token_signed_with_another_secret_is_rejected_as_forged():
    other = sign_receipt_token("another-secret", "AbCd_efGH-ijKLmn", EXPIRES)
    with pytest.raises(ForgedToken):
        verify_receipt_token(SECRET, other, NOW)


def test_token_past_its_expiry_is_rejected_as_expired(token):
    with pytest.raises(ExpiredToken):
        verify_receipt_token(SECRET, token, EXPIRES + timedelta(seconds=1))


def test_token_is_expired_at_the_exact_expiry_second(token):
    verify_receipt_token(SECRET, token, EXPIRES - timedelta(seconds=1))
    with pytest.raises(ExpiredToken):
        verify_receipt_token(SECRET, token, EXPIRES)


def test_forged_token_is_reported_as_forged_even_when_expired(token):
    # The signature is checked first, so an attacker learns nothing about expiry.
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(ForgedToken):
        verify_receipt_token(SECRET, forged, EXPIRES + timedelta(days=365))


def test_expired_and_forged_are_both_token_errors():
    assert issubclass(ForgedToken, TokenError)
    assert issubclass(ExpiredToken, TokenError)


def test_over_long_token_is_rejected_as_forged():
    # Valid-looking but too long: a long id signed with the same key and salt.
    long_value = "a" * 100 + ".zzzzzz"
    long_token = Signer(SECRET, salt="receipt-token", sep=".").sign(long_value).decode()
    assert len(long_token) > MAX_TOKEN_LENGTH
    with pytest.raises(ForgedToken):
        verify_receipt_token(SECRET, long_token, NOW)
    with pytest.raises(ForgedToken):
        verify_receipt_token(SECRET, "a" * 10_000, NOW)


@pytest.mark.parametrize(
    "bad_char", [" ", "/", "+", "=", "%", "~", "\n", "\x00", "é", "\u0660", "ａ"]
)
def test_token_with_characters_outside_the_token_alphabet_is_rejected_as_forged(token, bad_char):
    with pytest.raises(ForgedToken):
        verify_receipt_token(SECRET, token[:5] + bad_char + token[5:], NOW)
    with pytest.raises(ForgedToken):
        verify_receipt_token(SECRET, token + bad_char, NOW)


@pytest.mark.parametrize(
    "value", ["onlyonepart", "a.b.c", "id.NOTB36", "id.-1", "id.1_0", "id.", "id.zzzzzzzzzzzzz"]
)
def test_correctly_signed_value_of_the_wrong_shape_is_rejected_as_forged(value):
    # Signed with our key and salt, so only the shape checks can reject it.
    wrong_shape = Signer(SECRET, salt="receipt-token", sep=".").sign(value).decode()
    with pytest.raises(ForgedToken):
        verify_receipt_token(SECRET, wrong_shape, NOW)


def test_new_token_ids_are_16_url_safe_characters_and_distinct():
    ids = {new_token_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_\-]{16}", token_id) for token_id in ids)


@given(
    token_id=st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=64),
    expires_at=st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(9999, 12, 30),
        timezones=st.just(UTC),
    ),
)
def test_any_valid_id_and_expiry_round_trip(token_id, expires_at):
    token = sign_receipt_token(SECRET, token_id, expires_at)
    before = expires_at - timedelta(seconds=1)
    claims = verify_receipt_token(SECRET, token, before)
    assert claims.token_id == token_id
    assert claims.expires_at == expires_at.replace(microsecond=0)


def test_a_token_signed_for_one_purpose_is_forged_for_another():

    now = datetime(2026, 11, 22, tzinfo=UTC)
    token = sign_receipt_token("k" * 20, new_token_id(), now + timedelta(days=3))
    follow_up = sign_receipt_token(
        "k" * 20, new_token_id(), now + timedelta(days=3), purpose="follow-up"
    )
    assert verify_receipt_token("k" * 20, follow_up, now, purpose="follow-up")
    with pytest.raises(ForgedToken):
        verify_receipt_token("k" * 20, token, now, purpose="follow-up")
    with pytest.raises(ForgedToken):
        verify_receipt_token("k" * 20, follow_up, now)
