"""Opening images that users upload (receipt photos, the chain's logo) without trusting them.

The format is read from the content, never the file name; the pixel count is checked from
the header before a single pixel is decoded, whatever ``Image.MAX_IMAGE_PIXELS`` says (a
library or a test may have switched Pillow's own guard off), and Pillow's decompression
bomb warning counts as a refusal too. The picture is turned the right way up (EXIF
orientation), and `pixels_only` copies it without any of the file's metadata. Callers
put refusals into their own words.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageOps, UnidentifiedImageError


class Refusal(StrEnum):
    #: Not an image Pillow reads, or truncated, or corrupt.
    UNREADABLE = "unreadable"
    #: An image, but not of a format the caller accepts (GIF, WebP, TIFF, BMP...).
    FORMAT = "format"
    #: More pixels than the caller allows: a decompression bomb or an absurd image.
    PIXELS = "pixels"


class ImageRefused(ValueError):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UprightImage:
    #: Decoded, EXIF orientation applied.
    image: Image.Image
    #: Pillow's name of the format the content is in (``"PNG"``, ``"JPEG"``).
    format: str


def open_upright(data: bytes, *, formats: frozenset[str], max_pixels: int) -> UprightImage:
    """Decode an uploaded image of one of ``formats`` with at most ``max_pixels``.

    Raises
    ------
    ImageRefused
        With the reason: unreadable, another format, or too many pixels.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format not in formats:
                    raise ImageRefused(Refusal.FORMAT)
                image_format = probe.format
                # Width and height come from the header: nothing is decoded yet.
                if probe.width * probe.height > max_pixels:
                    raise ImageRefused(Refusal.PIXELS)
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused(Refusal.PIXELS) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ImageRefused(Refusal.UNREADABLE) from None
    return UprightImage(image=upright, format=image_format)


def pixels_only(image: Image.Image) -> Image.Image:
    """A new image from ``image``'s pixels alone.

    Pillow carries ``info`` (JPEG comment, ICC profile, XMP, PNG text, dpi) through
    ``convert()`` and writes some of it back on save: a new image from the raw pixels has
    none.
    """
    return Image.frombytes(image.mode, image.size, image.tobytes())
