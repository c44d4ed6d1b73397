"""The one strict reading of numbers and text (surveys.strict)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from surveys.strict import NotANumber, int_or_none, parse_decimal, parse_int, text_problem

#: Everything Python's int(), float() or Decimal() would take that no field offers.
NOT_INTEGERS = [
    "",
    " ",
    "1_0",
    "１０",
    "१०",
    "٣",
    "߁",
    " 5",
    "5 ",
    "5\n",
    "+5",
    "-5",
    "0x10",
    "1e3",
    "5.0",
    "nan",
    "inf",
    "1" * 19,
]
NOT_DECIMALS = [
    "",
    "1_0.5",
    "１.５",
    "NaN",
    "sNaN",
    "-sNaN",
    "Infinity",
    "inf",
    "-inf",
    "1e3",
    "1E-2",
    "1.2.3",
    " 1.5",
    "1.5 ",
    "+1.5",
    "--1",
    "٣.٥",
    ".",
]


@pytest.mark.parametrize("text", NOT_INTEGERS)
def test_parse_int_refuses_what_python_would_be_lenient_about(text):
    with pytest.raises(NotANumber):
        parse_int(text)
    assert int_or_none(text) is None


def test_parse_int_reads_ascii_digits_and_a_minus_only_where_offered():
    assert parse_int("0") == 0 and parse_int("007") == 7 and parse_int("123") == 123
    assert parse_int("-5", negative=True) == -5
    with pytest.raises(NotANumber):
        parse_int("-", negative=True)


@pytest.mark.parametrize("text", NOT_DECIMALS)
def test_parse_decimal_refuses_exponents_nan_infinity_and_other_digits(text):
    with pytest.raises(NotANumber):
        parse_decimal(text, negative=True)


def test_parse_decimal_reads_one_point():
    assert parse_decimal("12.50") == Decimal("12.50")
    assert parse_decimal(".5") == Decimal("0.5") and parse_decimal("5.") == Decimal(5)
    assert parse_decimal("-0.25", negative=True) == Decimal("-0.25")
    with pytest.raises(NotANumber):
        parse_decimal("-0.25")


@pytest.mark.parametrize(
    ("text", "single_line", "problem"),
    [
        ("a\x00b", False, "nul"),
        ("a\ud800", False, "surrogate"),
        ("\udc00a", True, "surrogate"),
        ("a\nb", True, "line_break"),
        ("a\rb", True, "line_break"),
        ("a\u2028b", True, "line_break"),
        ("a\x85b", True, "line_break"),
        ("a\tb", True, "control"),
        ("a\x1bb", True, "control"),
        ("a\x7fb", True, "control"),
        ("a\nb\tc", False, None),
        ("张伟 \u202eabc", True, None),
        ("😀 ok", True, None),
    ],
)
def test_text_problem(text, single_line, problem):
    assert text_problem(text, single_line=single_line) == problem
