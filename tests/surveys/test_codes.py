"""Tests for typeable short codes and validation codes (surveys.codes)."""

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.codes import (
    ALPHABET,
    SHORT_CODE_LENGTH,
    InvalidCode,
    format_short_code,
    format_validation_code,
    make_validation_code,
    new_short_code,
    normalize_short_code,
    read_validation_code,
)

SECRET = "test-secret-key"
CANONICAL = re.compile(r"[0-9A-HJKMNP-TV-Z]+")


def complete_code(payload: str) -> str:
    """Find the one check symbol that makes payload a valid code, by trial."""
    valid = []
    for check in ALPHABET:
        try:
            valid.append(normalize_short_code(payload + check))
        except InvalidCode:
            pass
    assert len(valid) == 1, "exactly one check symbol must fit a payload"
    return valid[0]


def test_alphabet_is_crockford_base32():
    assert ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert len(set(ALPHABET)) == 32


def test_new_short_code_is_canonical_and_valid():
    codes = {new_short_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == SHORT_CODE_LENGTH == 10
        assert CANONICAL.fullmatch(code)
        assert normalize_short_code(code) == code


def test_every_payload_has_exactly_one_check_symbol():
    rng = random.Random(7)
    for _ in range(50):
        complete_code("".join(rng.choice(ALPHABET) for _ in range(9)))


def test_short_code_is_printed_in_two_groups_of_five():
    assert format_short_code("ABCDEFGHJ0") == "ABCDE-FGHJ0"


def test_every_single_symbol_substitution_is_rejected():
    codes = [new_short_code() for _ in range(30)] + [complete_code("000000000")]
    for code in codes:
        for position in range(SHORT_CODE_LENGTH):
            for symbol in ALPHABET:
                if symbol == code[position]:
                    continue
                typo = code[:position] + symbol + code[position + 1 :]
                with pytest.raises(InvalidCode, match="not a valid code"):
                    normalize_short_code(typo)


def test_adjacent_transpositions_are_almost_all_rejected():
    rng = random.Random(20250301)
    caught = missed = 0
    missed_pairs = set()
    for _ in range(2000):
        code = complete_code("".join(rng.choice(ALPHABET) for _ in range(9)))
        for i in range(SHORT_CODE_LENGTH - 1):
            if code[i] == code[i + 1]:
                continue  # swapping equal symbols is not a typo
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            try:
                normalize_short_code(swapped)
            except InvalidCode:
                caught += 1
            else:
                missed += 1
                missed_pairs.add(frozenset((code[i], code[i + 1])))
    assert caught / (caught + missed) >= 0.90
    # Luhn mod 32 misses only the swap of the lowest and highest symbols, as Luhn
    # mod 10 misses only "09" <-> "90".
    assert missed_pairs <= {frozenset("0Z")}


@pytest.mark.parametrize(
    "typed",
    [
        "{code}",
        "{lower}",
        "{formatted}",
        "{formatted_lower}",
        "  {spaced}  ",
        "{dashed}",
        "{letters}",
        "{letters_lower}",
    ],
)
def test_what_a_shopper_types_is_normalized_to_the_canonical_code(typed):
    code = complete_code("10ABC01XY")
    variants = {
        "code": code,
        "lower": code.lower(),
        "formatted": format_short_code(code),
        "formatted_lower": format_short_code(code).lower(),
        "spaced": " ".join(code),
        "dashed": "-".join(code[:3]) + "--" + code[3:],
        "letters": code.replace("0", "O").replace("1", "I", 1).replace("1", "L"),
        "letters_lower": code.replace("0", "o").replace("1", "i", 1).replace("1", "l"),
    }
    assert normalize_short_code(typed.format(**variants)) == code


@pytest.mark.parametrize("text", ["ABCDE", "ABCDE-FGHJ", "ABCDE-FGHJ0-1", ""])
def test_code_of_the_wrong_length_is_rejected_saying_so(text):
    with pytest.raises(InvalidCode, match="10 characters"):
        normalize_short_code(text)


@pytest.mark.parametrize("char", ["U", "u", "*", "#", "é", "_", "."])
def test_code_with_a_character_outside_the_alphabet_is_rejected_naming_it(char):
    code = new_short_code()
    with pytest.raises(InvalidCode, match="not used in codes") as info:
        normalize_short_code(code[:4] + char + code[5:])
    assert repr(char.upper()) in str(info.value)


def test_invalid_code_is_a_value_error():
    assert issubclass(InvalidCode, ValueError)


@given(
    payload=st.text(alphabet=ALPHABET, min_size=9, max_size=9),
    separators=st.lists(st.sampled_from(["", " ", "-", " - "]), min_size=10, max_size=10),
    lowercase=st.lists(st.booleans(), min_size=10, max_size=10),
)
def test_code_with_any_case_and_separators_normalizes_to_itself(payload, separators, lowercase):
    code = complete_code(payload)
    typed = "".join(
        sep + (symbol.lower() if lower else symbol)
        for symbol, sep, lower in zip(code, separators, lowercase, strict=True)
    )
    assert normalize_short_code(typed) == code
    assert normalize_short_code(format_short_code(code)) == code


# Validation codes


@pytest.mark.parametrize("serial", [1, 31, 32, 1000, 123_456_789, 2**63 - 1])
def test_validation_code_round_trips(serial):
    code = make_validation_code(SECRET, serial)
    assert CANONICAL.fullmatch(code)
    assert read_validation_code(SECRET, code) == serial
    assert read_validation_code(SECRET, format_validation_code(code)) == serial
    assert read_validation_code(SECRET, format_validation_code(code).lower()) == serial


def test_validation_code_is_deterministic_and_serial_specific():
    assert make_validation_code(SECRET, 42) == make_validation_code(SECRET, 42)
    assert make_validation_code(SECRET, 42) != make_validation_code(SECRET, 43)


def test_validation_code_is_printed_in_groups_of_four():
    assert format_validation_code("ABCDEFGHJK") == "ABCD-EFGH-JK"
    assert format_validation_code("ABCDEFGH") == "ABCD-EFGH"
    code = make_validation_code(SECRET, 1000)
    assert re.fullmatch(r"([0-9A-Z]{4}-)*[0-9A-Z]{1,4}", format_validation_code(code))


def test_validation_code_accepts_o_i_and_l_for_zero_and_one():
    serial = next(s for s in range(1, 10_000) if {"0", "1"} <= set(make_validation_code(SECRET, s)))
    code = make_validation_code(SECRET, serial)
    typed = code.replace("0", "o").replace("1", "L")
    assert read_validation_code(SECRET, typed) == serial
    assert read_validation_code(SECRET, code.replace("1", "I")) == serial


def test_tampered_validation_code_is_rejected():
    code = make_validation_code(SECRET, 123_456)
    for position in range(len(code)):
        for symbol in ALPHABET:
            if symbol == code[position]:
                continue
            with pytest.raises(InvalidCode, match="not a valid validation code"):
                read_validation_code(SECRET, code[:position] + symbol + code[position + 1 :])


def test_validation_code_with_a_leading_zero_is_rejected():
    code = make_validation_code(SECRET, 123_456)
    with pytest.raises(InvalidCode):
        read_validation_code(SECRET, "0" + code)


def test_validation_code_from_another_secret_is_rejected():
    code = make_validation_code("another-secret", 123_456)
    with pytest.raises(InvalidCode, match="not a valid validation code"):
        read_validation_code(SECRET, code)


@pytest.mark.parametrize("text", ["", "ABCDEF", "1" + "0" * 13 + "ABCDEF"])
def test_validation_code_of_the_wrong_length_is_rejected(text):
    with pytest.raises(InvalidCode, match="characters; this one has"):
        read_validation_code(SECRET, text)


def test_validation_code_with_a_character_outside_the_alphabet_is_rejected():
    with pytest.raises(InvalidCode, match="not used in codes"):
        read_validation_code(SECRET, "C1S6-P3K9-U")


@pytest.mark.parametrize("serial", [0, -1, 2**63, True])
def test_validation_code_needs_a_positive_64_bit_serial(serial):
    with pytest.raises(ValueError, match="serial"):
        make_validation_code(SECRET, serial)


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_any_serial_round_trips_through_a_formatted_validation_code(serial):
    code = make_validation_code(SECRET, serial)
    assert read_validation_code(SECRET, format_validation_code(code)) == serial
