"""Codes a person reads off paper and types: receipt short codes and validation codes.

Both kinds use Crockford's base-32 alphabet, which leaves out I, L, O and U so that a
misread letter can be mapped back (O to 0, I and L to 1) and the code cannot spell
most words. A *short code* is printed under the QR code for shoppers without a camera;
it is random and ends in a Luhn mod 32 check symbol that catches every single-symbol
typo. A *validation code* is shown on the thank-you page; it carries the response
serial number and a truncated HMAC so staff can check it without a lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = [
    "ALPHABET",
    "SHORT_CODE_LENGTH",
    "InvalidCode",
    "format_short_code",
    "format_validation_code",
    "make_validation_code",
    "new_short_code",
    "normalize_short_code",
    "read_validation_code",
]

#: Crockford base-32 symbols, in value order.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Symbols in a canonical short code: 9 random ones and a check symbol.
SHORT_CODE_LENGTH = 10

_BASE = len(ALPHABET)
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Crockford's decoding rules for the letters that are left out of the alphabet.
_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
# People type codes with spaces or dashes in them, or paste them with line breaks.
_SEPARATORS = re.compile(r"[\s\-]+")

_MAC_SALT = b"validation-code"
_MAC_LENGTH = 6  # symbols: 30 bits, one chance in about a billion per guess
# Serials are database ids (64-bit signed); 13 symbols hold 65 bits.
_MAX_SERIAL = 2**63 - 1
_MAX_SERIAL_SYMBOLS = 13


class InvalidCode(ValueError):
    """A typed code cannot be accepted; the message says why in plain words."""


def _luhn_check_symbol(payload: str) -> str:
    # Luhn mod N (N = 32): double every second value from the right, fold the product
    # back into one symbol by adding its base-32 digits, and pick the symbol that makes
    # the total a multiple of 32. Any single substitution changes the total, and an
    # adjacent swap goes unnoticed only for the pair "0" and "Z".
    total = 0
    factor = 2
    for symbol in reversed(payload):
        addend = factor * _VALUE[symbol]
        total += addend // _BASE + addend % _BASE
        factor = 3 - factor
    return ALPHABET[(_BASE - total % _BASE) % _BASE]


def _clean(text: str) -> str:
    """Strip separators, uppercase, map O/I/L, and reject symbols outside the alphabet."""
    cleaned = _SEPARATORS.sub("", text).upper().translate(_READS_AS)
    for symbol in cleaned:
        if symbol not in _VALUE:
            raise InvalidCode(f"The character {symbol!r} is not used in codes.")
    return cleaned


def new_short_code() -> str:
    """Return a fresh random short code in canonical form.

    Returns
    -------
    str
        :data:`SHORT_CODE_LENGTH` uppercase symbols: 9 random ones (45 bits) and a
        Luhn mod 32 check symbol over them, no separators.

    References
    ----------
    .. [1] "Luhn mod N algorithm", Wikipedia.
    .. [2] D. Crockford, "Base 32", https://www.crockford.com/base32.html
    """
    # One 45-bit draw split into 5-bit symbols: as uniform as nine secrets.choice calls,
    # and ten times cheaper (the demo and batch printing draw 100,000 codes).
    bits = secrets.randbits(5 * (SHORT_CODE_LENGTH - 1))
    payload = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(SHORT_CODE_LENGTH - 1))
    return payload + _luhn_check_symbol(payload)


def format_short_code(code: str) -> str:
    """Return a canonical short code grouped 5-5 for printing, as ``ABCDE-FGHJ0``.

    Parameters
    ----------
    code : str
        A canonical short code.

    Returns
    -------
    str
        The two halves joined by a hyphen.
    """
    return f"{code[:5]}-{code[5:]}"


def normalize_short_code(text: str) -> str:
    """Turn what a shopper typed into a canonical short code.

    Case is ignored, spaces and hyphens may appear anywhere, and O, I and L are read
    as 0, 1 and 1.

    Parameters
    ----------
    text : str
        The typed code.

    Returns
    -------
    str
        The canonical code: 10 uppercase symbols without separators.

    Raises
    ------
    InvalidCode
        If a character is not allowed, the length is wrong, or the check symbol does
        not match (a typing mistake).
    """
    code = _clean(text)
    if len(code) != SHORT_CODE_LENGTH:
        raise InvalidCode(f"A code has {SHORT_CODE_LENGTH} characters; this one has {len(code)}.")
    if _luhn_check_symbol(code[:-1]) != code[-1]:
        raise InvalidCode("This is not a valid code. Please check it for typing mistakes.")
    return code


def _encode_base32(number: int) -> str:
    symbols = []
    while True:
        number, rest = divmod(number, _BASE)
        symbols.append(ALPHABET[rest])
        if number == 0:
            return "".join(reversed(symbols))


def _validation_mac(secret_key: str, serial: int) -> str:
    digest = hmac.new(
        secret_key.encode("utf-8"), _MAC_SALT + b":" + str(serial).encode("ascii"), hashlib.sha256
    ).digest()
    # The top 30 bits of the digest, as 6 base-32 symbols.
    bits = int.from_bytes(digest[:4], "big") >> (32 - 5 * _MAC_LENGTH)
    return _encode_base32(bits).rjust(_MAC_LENGTH, "0")


def make_validation_code(secret_key: str, serial: int) -> str:
    """Make the validation code shown on the thank-you page.

    Parameters
    ----------
    secret_key : str
        The application's secret key.
    serial : int
        A positive serial number, normally the response id.

    Returns
    -------
    str
        Canonical code: ``serial`` in Crockford base 32 (no leading zeros) followed by
        6 symbols of HMAC-SHA256 over ``serial`` with salt ``"validation-code"``,
        uppercase without separators.

    Raises
    ------
    ValueError
        If ``serial`` is not in ``1 .. 2**63 - 1``.
    """
    if isinstance(serial, bool) or not 1 <= serial <= _MAX_SERIAL:
        raise ValueError("serial must be a positive 64-bit integer")
    return _encode_base32(serial) + _validation_mac(secret_key, serial)


def format_validation_code(code: str) -> str:
    """Return a canonical validation code in groups of 4 joined by ``-``.

    Parameters
    ----------
    code : str
        A canonical validation code.

    Returns
    -------
    str
        For example ``"1Z3K-9ABC"``; the last group may be shorter.
    """
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def read_validation_code(secret_key: str, text: str) -> int:
    """Check a typed validation code and return its serial number.

    Input is normalized as for short codes (case, separators, O/I/L).

    Parameters
    ----------
    secret_key : str
        The application's secret key.
    text : str
        The code as typed or pasted.

    Returns
    -------
    int
        The serial number the code was made for.

    Raises
    ------
    InvalidCode
        If a character is not allowed, the length is wrong, or the code was not made
        with this key.
    """
    code = _clean(text)
    if not _MAC_LENGTH < len(code) <= _MAC_LENGTH + _MAX_SERIAL_SYMBOLS:
        raise InvalidCode(
            f"A validation code has {_MAC_LENGTH + 1} to {_MAC_LENGTH + _MAX_SERIAL_SYMBOLS}"
            f" characters; this one has {len(code)}."
        )
    serial_part, mac = code[:-_MAC_LENGTH], code[-_MAC_LENGTH:]
    serial = 0
    for symbol in serial_part:
        serial = serial * _BASE + _VALUE[symbol]
    # A leading zero would give a second spelling of the same code; reject it so that
    # any altered character makes the code invalid.
    valid_serial = serial_part[0] != "0" and serial <= _MAX_SERIAL
    expected = _validation_mac(secret_key, serial)
    if not (hmac.compare_digest(expected, mac) and valid_serial):
        raise InvalidCode("This is not a valid validation code.")
    return serial
