"""Receipt photos filed as proof of a mystery visit.

An upload is decoded with Pillow, accepted only as JPEG or PNG within a size limit, and
re-encoded from its pixels alone, so nothing of the original file survives: no EXIF (GPS
position, camera serial, time), no JPEG comment (COM) segments, no ICC profile or XMP, no PNG
text chunks, no trailing bytes. The cleaned file is stored
under the instance folder, never the web root, and served by a view that checks who asks.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image

from portal.errors import DomainError
from portal.images import ImageRefused, Refusal, open_upright, pixels_only

#: Formats a phone camera or a screenshot produces; anything else is refused.
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG"})
#: Longest edge kept: enough to read a receipt, small enough for a slow connection.
MAX_EDGE = 1600
#: Decoding more pixels than this is refused (a decompression bomb, not a receipt).
MAX_PIXELS = 40_000_000
#: Room for the rest of the upload request besides the photo: the multipart boundaries and
#: part headers, the CSRF token and the buttons.
FORM_OVERHEAD_BYTES = 64 * 1024


def upload_body_limit(max_photo_bytes: int) -> int:
    """The largest request body of the photo upload: a photo of the advertised size plus
    the form around it (every other request keeps the application's smaller limit)."""
    return max_photo_bytes + FORM_OVERHEAD_BYTES


class InvalidPhoto(DomainError):
    status = 400
    code = "invalid_photo"


class PhotoTooLarge(InvalidPhoto):
    status = 413
    code = "photo_too_large"


@dataclass(frozen=True, slots=True)
class CleanPhoto:
    data: bytes
    suffix: str  # ".jpg" or ".png"
    #: 64-bit average hash, 16 hex digits: the same picture filed twice has the same hash.
    average_hash: str


def clean_photo(data: bytes, *, max_bytes: int) -> CleanPhoto:
    """Validate an upload and re-encode it without any metadata.

    Raises
    ------
    InvalidPhoto
        Empty, larger than ``max_bytes``, not a JPEG or PNG, or not decodable.
    """
    if not data:
        raise InvalidPhoto(_l("Choose a photo of the receipt."), field="photo")
    if len(data) > max_bytes:
        raise photo_too_large(max_bytes)
    try:
        decoded = open_upright(data, formats=ACCEPTED_FORMATS, max_pixels=MAX_PIXELS)
    except ImageRefused as refusal:
        if refusal.reason is Refusal.PIXELS:
            raise InvalidPhoto(_l("The photo has too many pixels."), field="photo") from None
        raise InvalidPhoto(_l("The photo must be a JPEG or PNG image."), field="photo") from None
    upright, image_format = decoded.image, decoded.format
    upright.thumbnail((MAX_EDGE, MAX_EDGE))
    out = io.BytesIO()
    if image_format == "PNG":
        pixels = pixels_only(upright.convert("RGBA" if "A" in upright.getbands() else "RGB"))
        # A fresh image carries no text chunks or other ancillary data from the upload.
        pixels.save(out, format="PNG", optimize=True)
        suffix = ".png"
    else:
        pixels = pixels_only(upright.convert("RGB"))
        pixels.save(out, format="JPEG", quality=85, optimize=True)
        suffix = ".jpg"
    return CleanPhoto(data=out.getvalue(), suffix=suffix, average_hash=average_hash(pixels))


def photo_too_large(max_bytes: int) -> PhotoTooLarge:
    """The refusal of a photo over ``max_bytes``, for the photo field."""
    return PhotoTooLarge(
        _l("The photo is too large (at most %(mb)s MB).", mb=f"{max_bytes / (1024 * 1024):g}"),
        field="photo",
    )


def average_hash(image: Image.Image) -> str:
    """The 8x8 average hash: grey, shrink to 8x8, one bit per pixel above the mean."""
    small = image.convert("L").resize((8, 8), Image.Resampling.BOX)
    pixels = small.tobytes()  # one byte a pixel in mode L
    mean = sum(pixels) / len(pixels)
    bits = 0
    for value in pixels:
        bits = (bits << 1) | (value > mean)
    return f"{bits:016x}"


def store_photo(folder: Path, visit_id: int, photo: CleanPhoto) -> str:
    """Write the cleaned photo under ``folder`` with an unguessable name; return the name."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"visit-{visit_id}-{secrets.token_hex(12)}{photo.suffix}"
    path = folder / name
    with open(path, "xb") as out:
        out.write(photo.data)
    return name


def content_type(path: Path) -> str:
    """The media type of a stored photo: only the two formats `clean_photo` writes."""
    return "image/png" if path.suffix == ".png" else "image/jpeg"


def photo_path(folder: Path, name: str) -> Path:
    """The stored file for ``name``; names are ours, but never follow one out of the folder."""
    path = (folder / name).resolve()
    if path.parent != folder.resolve():
        raise InvalidPhoto(_l("No such photo."))
    return path
