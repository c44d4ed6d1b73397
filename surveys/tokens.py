"""Signed receipt tokens: the opaque string behind the QR code on a receipt.

A token is ``<token_id>.<expiry>.<signature>``: a random identifier, the expiry as
base-36 Unix seconds, and an HMAC signature made with :class:`itsdangerous.Signer`.
Verification is pure (no database, no clock) so a request with a forged or expired
token can be turned away before any I/O. Signing is deterministic, which lets the
portal recompute a receipt's token from its stored ``token_id`` and ``expires_at``
instead of storing the token itself.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import Signer

__all__ = [
    "MAX_TOKEN_LENGTH",
    "ExpiredToken",
    "ForgedToken",
    "ReceiptTokenClaims",
    "TokenError",
    "new_token_id",
    "sign_opened_stamp",
    "sign_receipt_token",
    "verify_opened_stamp",
    "verify_receipt_token",
]

#: Longest token accepted by :func:`verify_receipt_token`. Real tokens are about 51
#: characters; the cap bounds the work an attacker can make us do per request.
MAX_TOKEN_LENGTH = 128

_SALT = "receipt-token"
_SEP = "."
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_.\-]+")
_TOKEN_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
# Lowercase only and no sign or underscore: int(text, 36) alone would also accept
# "+", "-", "_" and whitespace, which would give one expiry several spellings.
_EXPIRY = re.compile(r"[0-9a-z]{1,13}")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TokenError(Exception):
    """A receipt token cannot be accepted."""


class ForgedToken(TokenError):
    """The token was not made by us: bad signature, malformed, or too long."""


class ExpiredToken(TokenError):
    """The token is genuine but its expiry has passed."""


@dataclass(frozen=True, slots=True)
class ReceiptTokenClaims:
    """What a verified token vouches for.

    Attributes
    ----------
    token_id : str
        The random identifier the receipt row is looked up by.
    expires_at : datetime
        Timezone-aware UTC expiry, in whole seconds.
    """

    token_id: str
    expires_at: datetime


def new_token_id() -> str:
    """Return a fresh random token identifier.

    Returns
    -------
    str
        16 URL-safe characters carrying 96 random bits, from
        :func:`secrets.token_urlsafe`. 96 bits make guessing a live receipt
        infeasible even with millions of receipts outstanding.
    """
    return secrets.token_urlsafe(12)


def _signer(secret_key: str, purpose: str) -> Signer:
    # HMAC-SHA1 (the itsdangerous default) keeps the signature at 27 characters, so a
    # full survey URL fits a version 5 QR code; HMAC-SHA1 is still a sound MAC. The
    # purpose is the salt: a token signed for one use is forged for any other.
    return Signer(secret_key, salt=purpose, sep=_SEP)


def _unix_base36(moment: datetime, name: str) -> str:
    # Exact integer arithmetic: timestamp() is a float and rounds e.g. 00:00:00.999993
    # up to the next second for dates far enough from 1970.
    seconds = (moment - _EPOCH) // timedelta(seconds=1)
    if seconds < 0:
        raise ValueError(f"{name} must not be before 1970")
    return _to_base36(seconds)


def _to_base36(number: int) -> str:
    digits = []
    while True:
        number, rest = divmod(number, 36)
        digits.append(_BASE36[rest])
        if number == 0:
            return "".join(reversed(digits))


def sign_receipt_token(
    secret_key: str, token_id: str, expires_at: datetime, *, purpose: str = _SALT
) -> str:
    """Sign a receipt token.

    The same arguments always give the same token.

    Parameters
    ----------
    secret_key : str
        The application's secret key.
    token_id : str
        Identifier from :func:`new_token_id` (URL-safe characters, no ``.``).
    expires_at : datetime
        Timezone-aware expiry; microseconds are dropped.
    purpose : str, optional
        What the token opens (default: a receipt survey); e.g. ``"follow-up"`` for a
        case's recovery question. Tokens of different purposes never verify as each other.

    Returns
    -------
    str
        ``<token_id>.<expiry in base-36 Unix seconds>.<signature>``.

    Raises
    ------
    ValueError
        If ``expires_at`` is naive or before 1970, or ``token_id`` has characters
        other than ``A-Z a-z 0-9 _ -`` or more than 64 of them.
    """
    if expires_at.tzinfo is None or expires_at.utcoffset() is None:
        raise ValueError("expires_at must be timezone-aware")
    if _TOKEN_ID.fullmatch(token_id) is None:
        raise ValueError("token_id must be 1-64 characters from A-Z a-z 0-9 _ -")
    value = f"{token_id}{_SEP}{_unix_base36(expires_at, 'expires_at')}"
    return _signer(secret_key, purpose).sign(value).decode("ascii")


def verify_receipt_token(
    secret_key: str, token: str, now: datetime, *, purpose: str = _SALT
) -> ReceiptTokenClaims:
    """Check a receipt token and return what it vouches for.

    Only the string is inspected; nothing is looked up.

    Parameters
    ----------
    secret_key : str
        The application's secret key.
    token : str
        The token taken from the URL.
    now : datetime
        Timezone-aware current time.
    purpose : str, optional
        The purpose the token must have been signed for.

    Returns
    -------
    ReceiptTokenClaims
        The token identifier and expiry.

    Raises
    ------
    ForgedToken
        If the token is longer than :data:`MAX_TOKEN_LENGTH`, has characters outside
        ``A-Z a-z 0-9 _ . -``, does not have three parts, has a malformed expiry, or
        its signature does not match.
    ExpiredToken
        If the signature matches but ``expires_at <= now``.
    ValueError
        If ``now`` is naive.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if len(token) > MAX_TOKEN_LENGTH or _TOKEN_CHARS.fullmatch(token) is None:
        raise ForgedToken("token is too long or has characters a token never has")
    value, sep, _signature = token.rpartition(_SEP)
    if not sep:
        raise ForgedToken("token has no signature")
    # Compare against a freshly signed token rather than calling Signer.unsign: the
    # base64 decoder ignores the spare low bits of the last signature character, so
    # unsign would accept a few altered spellings of a valid token.
    expected = _signer(secret_key, purpose).sign(value).decode("ascii")
    if not hmac.compare_digest(expected, token):
        raise ForgedToken("token signature does not match")

    # From here on the token is one we signed, so these checks guard against our own
    # bugs or a change of format under the same key, not against attackers.
    parts = value.split(_SEP)
    if len(parts) != 2 or _EXPIRY.fullmatch(parts[1]) is None:
        raise ForgedToken("token does not have the form id.expiry.signature")
    token_id, expiry = parts
    try:
        expires_at = _EPOCH + timedelta(seconds=int(expiry, 36))
    except OverflowError as exc:
        raise ForgedToken("token expiry is out of range") from exc
    if expires_at <= now:
        raise ExpiredToken(f"token expired at {expires_at.isoformat()}")
    return ReceiptTokenClaims(token_id=token_id, expires_at=expires_at)


_OPENED_PURPOSE = "survey-opened"


def sign_opened_stamp(secret_key: str, token_id: str, now: datetime) -> str:
    """Sign "the survey of ``token_id`` was opened at ``now``", for the survey form to carry.

    Parameters
    ----------
    secret_key : str
        The application's secret key.
    token_id : str
        The receipt token's identifier (:attr:`ReceiptTokenClaims.token_id`).
    now : datetime
        Timezone-aware time the page was served; microseconds are dropped.

    Returns
    -------
    str
        ``<opened in base-36 Unix seconds>.<signature>``; the signature covers the token
        identifier too, so a stamp of one receipt never vouches for another.

    Raises
    ------
    ValueError
        If ``now`` is naive or before 1970.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    value = f"{token_id}{_SEP}{_unix_base36(now, 'now')}"
    signed = _signer(secret_key, _OPENED_PURPOSE).sign(value)
    return signed.decode("ascii").split(_SEP, 1)[1]


def verify_opened_stamp(secret_key: str, stamp: str, token_id: str) -> datetime:
    """Check a stamp from :func:`sign_opened_stamp` and return when the page was opened.

    Parameters
    ----------
    secret_key : str
        The application's secret key.
    stamp : str
        The stamp the form sent back.
    token_id : str
        The receipt the stamp must have been made for.

    Returns
    -------
    datetime
        Timezone-aware UTC time the survey page was served.

    Raises
    ------
    ForgedToken
        If the stamp is malformed, too long, or not signed by us for this receipt.
    """
    if len(stamp) > MAX_TOKEN_LENGTH or _TOKEN_CHARS.fullmatch(stamp) is None:
        raise ForgedToken("stamp is too long or has characters a stamp never has")
    opened, sep, _signature = stamp.partition(_SEP)
    if not sep or _EXPIRY.fullmatch(opened) is None:
        raise ForgedToken("stamp does not have the form opened.signature")
    value = f"{token_id}{_SEP}{opened}"
    expected = _signer(secret_key, _OPENED_PURPOSE).sign(value).decode("ascii")
    if not hmac.compare_digest(expected, f"{token_id}{_SEP}{stamp}"):
        raise ForgedToken("stamp signature does not match")
    try:
        return _EPOCH + timedelta(seconds=int(opened, 36))
    except OverflowError as exc:
        raise ForgedToken("stamp time is out of range") from exc
