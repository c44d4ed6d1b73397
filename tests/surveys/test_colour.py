"""WCAG contrast: relative luminance, ratios against worked values, the suggested shade."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.colour import (
    AA_NORMAL_TEXT,
    contrast_ratio,
    darker_shade_reaching,
    hex_colour,
    parse_hex_colour,
    ratio_text,
    relative_luminance,
)

WHITE = (255, 255, 255)

# Expected ratios are from the WebAIM contrast checker (webaim.org/resources/contrastchecker,
# which shows two decimals) and the WCAG 2.1 Understanding document for SC 1.4.3, which
# names #767676 as the lightest grey passing AA on white; #777777 is the classic
# near miss.
WORKED = [
    ("#777777", 4.48, False),
    ("#767676", 4.54, True),
    ("#000000", 21.0, True),
    ("#ffffff", 1.0, False),
    ("#0000ff", 8.59, True),
    ("#ff0000", 4.00, False),
    ("#008000", 5.14, True),
]


@pytest.mark.parametrize(("colour", "ratio", "passes"), WORKED)
def test_contrast_against_white_matches_worked_values(colour, ratio, passes):
    measured = contrast_ratio(parse_hex_colour(colour), WHITE)
    assert measured == pytest.approx(ratio, abs=0.005)
    assert (measured >= AA_NORMAL_TEXT) is passes


def test_relative_luminance_of_the_ends_and_a_primary():
    assert relative_luminance((0, 0, 0)) == 0
    assert relative_luminance(WHITE) == pytest.approx(1)
    # Green alone weighs 0.7152 (the Rec. 709 coefficient).
    assert relative_luminance((0, 255, 0)) == pytest.approx(0.7152)


def test_the_ratio_is_symmetric_and_unrounded():
    grey = parse_hex_colour("#777777")
    assert contrast_ratio(grey, WHITE) == contrast_ratio(WHITE, grey)
    # 4.478...: shown as 4.48 but never rounded up to a pass.
    assert 4.47 < contrast_ratio(grey, WHITE) < AA_NORMAL_TEXT


@pytest.mark.parametrize(
    ("colour", "suggested"),
    [
        ("#777777", "#767676"),  # one step darker is enough
        ("#ffffff", "#767676"),  # white becomes the AA grey
        ("#ff0000", "#ee0000"),  # red keeps its hue
        ("#1a5fb4", "#1a5fb4"),  # already passes: unchanged
    ],
)
def test_the_suggestion_is_the_nearest_darker_shade_that_passes(colour, suggested):
    shade = darker_shade_reaching(parse_hex_colour(colour), WHITE, AA_NORMAL_TEXT)
    assert hex_colour(shade) == suggested


def test_one_step_lighter_than_the_suggestion_fails():
    assert contrast_ratio(parse_hex_colour("#ef0000"), WHITE) < AA_NORMAL_TEXT
    assert contrast_ratio(parse_hex_colour("#ee0000"), WHITE) >= AA_NORMAL_TEXT


@given(st.tuples(*[st.integers(0, 255)] * 3))
def test_the_suggestion_always_passes_and_is_no_lighter(rgb):
    shade = darker_shade_reaching(rgb, WHITE, AA_NORMAL_TEXT)
    assert contrast_ratio(shade, WHITE) >= AA_NORMAL_TEXT
    assert all(s <= c for s, c in zip(shade, rgb, strict=True))
    if contrast_ratio(rgb, WHITE) >= AA_NORMAL_TEXT:
        assert shade == rgb


@pytest.mark.parametrize("text", ["#abc", "777777", "#77777g", " #777777", "red", "#7777777"])
def test_only_six_digit_hex_colours_are_read(text):
    with pytest.raises(ValueError):
        parse_hex_colour(text)


def test_hex_colours_read_in_either_case_and_are_written_in_lower_case():
    assert hex_colour(parse_hex_colour("#1A5FB4")) == "#1a5fb4"


@pytest.mark.parametrize(
    ("ratio", "text"),
    [
        (4.4781, "4.48"),
        (4.497, "4.49"),
        (4.4999, "4.49"),
        (4.5, "4.50"),
        (4.542, "4.54"),
        (21, "21.00"),
    ],
)
def test_a_failing_ratio_never_reads_as_a_pass(ratio, text):
    assert ratio_text(ratio) == text
