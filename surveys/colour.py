"""Colour contrast as WCAG 2 measures it: relative luminance, the contrast ratio of two
colours, and the darker shade of a colour that reaches a ratio.

The chain's primary colour is used for headings on white and as the background of white
button text, so it must reach WCAG AA for normal text (4.5:1) against white.
"""

from __future__ import annotations

import math
import re

#: WCAG 2 success criterion 1.4.3 (AA), text below 18 pt (14 pt bold).
AA_NORMAL_TEXT = 4.5
WHITE = "#ffffff"

_HEX = re.compile(r"\A#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})\Z")


def parse_hex_colour(text: str) -> tuple[int, int, int]:
    """The red, green and blue of ``#rrggbb`` (either case).

    Parameters
    ----------
    text : str
        Exactly ``#`` and six hexadecimal digits.

    Returns
    -------
    tuple of int
        Each 0-255.

    Raises
    ------
    ValueError
        For anything else (``#abc``, names, ``rgb()``, surrounding spaces).
    """
    match = _HEX.match(text)
    if match is None:
        raise ValueError(f"not a #rrggbb colour: {text!r}")
    red, green, blue = (int(part, 16) for part in match.groups())
    return red, green, blue


def hex_colour(rgb: tuple[int, int, int]) -> str:
    """``#rrggbb`` in lower case."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """The relative luminance of an sRGB colour, 0 (black) to 1 (white).

    Parameters
    ----------
    rgb : tuple of int
        Red, green, blue, each 0-255.

    Returns
    -------
    float
        ``L = 0.2126 R + 0.7152 G + 0.0722 B`` over the linearised channels, where a
        channel ``c = v / 255`` is linearised as ``c / 12.92`` when ``c <= 0.04045`` and
        ``((c + 0.055) / 1.055) ** 2.4`` otherwise.

    Notes
    -----
    WCAG 2.0 printed the threshold as 0.03928 (from an early sRGB draft); for 8-bit
    channels both thresholds fall between the same two values (10/255 and 11/255), so the
    result is the same.

    References
    ----------
    .. [1] W3C, "Web Content Accessibility Guidelines (WCAG) 2.1", definition of
       "relative luminance". https://www.w3.org/TR/WCAG21/#dfn-relative-luminance
    """

    def linear(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(v) for v in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """The WCAG contrast ratio of two colours, 1 (same luminance) to 21 (black on white).

    Parameters
    ----------
    first, second : tuple of int
        Two sRGB colours, in either order.

    Returns
    -------
    float
        ``(L_lighter + 0.05) / (L_darker + 0.05)``, unrounded: WCAG compares the exact
        ratio with the threshold (4.499 fails 4.5).

    References
    ----------
    .. [1] W3C, "Web Content Accessibility Guidelines (WCAG) 2.1", definition of
       "contrast ratio". https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio

    Examples
    --------
    >>> round(contrast_ratio((0x76, 0x76, 0x76), (255, 255, 255)), 2)
    4.54
    """
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)))[::-1]
    return (lighter + 0.05) / (darker + 0.05)


def ratio_text(ratio: float, threshold: float = AA_NORMAL_TEXT) -> str:
    """A contrast ratio with two decimals, as contrast checkers show it, except that a
    ratio below ``threshold`` never reads as reaching it (4.497 is "4.49", not "4.50").

    Parameters
    ----------
    ratio : float
        A contrast ratio (`contrast_ratio`).
    threshold : float
        The ratio a reader compares it with.

    Returns
    -------
    str

    Examples
    --------
    >>> ratio_text(4.4781), ratio_text(4.497), ratio_text(21.0)
    ('4.48', '4.49', '21.00')
    """
    shown = round(ratio, 2)
    if ratio < threshold <= shown:
        shown = math.floor(ratio * 100) / 100
    return f"{shown:.2f}"


def darker_shade_reaching(
    rgb: tuple[int, int, int], background: tuple[int, int, int], ratio: float
) -> tuple[int, int, int]:
    """The lightest shade of ``rgb`` (same hue and saturation, only darker) that reaches
    ``ratio`` against a light ``background``.

    Parameters
    ----------
    rgb : tuple of int
        The colour to darken.
    background : tuple of int
        The light colour it must stand out against (white for the portal).
    ratio : float
        The contrast to reach, at most 21.

    Returns
    -------
    tuple of int
        ``rgb`` itself when it already reaches ``ratio``; otherwise every channel scaled by
        the same factor ``k/m`` (``m`` the largest channel), with the largest ``k`` that
        reaches it. Black when nothing lighter does.

    Notes
    -----
    Scaling every channel by one factor keeps the hue and the HSV saturation; luminance
    grows with each channel, so the first shade that passes, going down, is the nearest.
    """
    if contrast_ratio(rgb, background) >= ratio:
        return rgb
    top = max(rgb)
    for k in range(top - 1, 0, -1):
        shade = (
            round(rgb[0] * k / top),
            round(rgb[1] * k / top),
            round(rgb[2] * k / top),
        )
        if contrast_ratio(shade, background) >= ratio:
            return shade
    return (0, 0, 0)
