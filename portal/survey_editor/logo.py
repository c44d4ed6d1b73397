"""The chain's logo as uploaded on the branding page, made safe to show to every shopper.

An upload is accepted only as PNG or JPEG (by content), at most `MAX_LOGO_BYTES`, decoded
through `portal.images` (pixel count checked before decoding, EXIF orientation applied),
shrunk to fit `LOGO_EDGE` square and re-encoded as a PNG from its pixels alone: nothing of
the uploaded file (EXIF, text chunks, ICC profile, trailing bytes) reaches a shopper.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image

from portal.errors import DomainError
from portal.images import ImageRefused, Refusal, open_upright, pixels_only

#: The largest upload read; the request body may be this plus the form around it.
MAX_LOGO_BYTES = 2 * 1024 * 1024
#: The stored logo fits in this square (a survey page shows it far smaller).
LOGO_EDGE = 512
#: A logo drawn at 4096 x 4096 is generous; more pixels than that is refused unread.
LOGO_MAX_SIDE = 4096
LOGO_MAX_PIXELS = LOGO_MAX_SIDE * LOGO_MAX_SIDE
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG"})
#: Modes that carry transparency (kept: a logo on a coloured band needs it).
_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


class InvalidLogo(DomainError):
    status = 400
    code = "invalid_logo"


class LogoTooLarge(InvalidLogo):
    status = 413
    code = "logo_too_large"


@dataclass(frozen=True, slots=True)
class CleanLogo:
    #: The re-encoded PNG.
    png: bytes
    #: Its SHA-256 (hex): the logo's public URL, so it can be cached for ever.
    sha256: str
    width: int
    height: int


def logo_too_large() -> LogoTooLarge:
    """The refusal of an upload over `MAX_LOGO_BYTES`, for the logo field."""
    return LogoTooLarge(
        _l("The logo file is too large (at most %(mb)s MB).", mb=MAX_LOGO_BYTES // (1024 * 1024)),
        field="logo",
    )


def clean_logo(data: bytes) -> CleanLogo:
    """Check an uploaded logo and re-encode it as a small PNG without metadata.

    Raises
    ------
    LogoTooLarge
        Over `MAX_LOGO_BYTES` (413).
    InvalidLogo
        Empty, not a PNG or JPEG (whatever the file's name says), unreadable, or with more
        than `LOGO_MAX_PIXELS` pixels (a decompression bomb).
    """
    if not data:
        raise InvalidLogo(_l("The logo file is empty."), field="logo")
    if len(data) > MAX_LOGO_BYTES:
        raise logo_too_large()
    try:
        decoded = open_upright(data, formats=ACCEPTED_FORMATS, max_pixels=LOGO_MAX_PIXELS)
    except ImageRefused as refusal:
        raise InvalidLogo(_REFUSALS[refusal.reason], field="logo") from None
    image = decoded.image
    transparent = image.mode in _ALPHA_MODES or "transparency" in image.info
    try:
        image = image.convert("RGBA" if transparent else "RGB")
    except (ValueError, OSError):
        raise InvalidLogo(_REFUSALS[Refusal.UNREADABLE], field="logo") from None
    image.thumbnail((LOGO_EDGE, LOGO_EDGE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    pixels_only(image).save(out, format="PNG", optimize=True)
    png = out.getvalue()
    return CleanLogo(
        png=png, sha256=hashlib.sha256(png).hexdigest(), width=image.width, height=image.height
    )


_REFUSALS = {
    Refusal.UNREADABLE: _l(
        "This file could not be read as an image: the logo must be a PNG or JPEG."
    ),
    Refusal.FORMAT: _l("The logo must be a PNG or JPEG image; other formats are not taken."),
    Refusal.PIXELS: _l(
        "The logo has too many pixels (at most %(side)s x %(side)s).", side=LOGO_MAX_SIDE
    ),
}
