"""Reading the cards' PDF back without a PDF library (pypdf and poppler's pdftotext and
pdftoppm are not on the test machines): its streams inflated, its pages counted, its text
decoded through the fonts' ToUnicode maps, and its embedded images rewritten as PNG files
for zbarimg.

This reads what WeasyPrint writes (Type0 fonts with Identity-H encoding, object streams,
Flate-compressed images with the PNG predictor); it is not a general PDF reader.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

_STREAM = re.compile(rb"(\d+) 0 obj\s*<<(.*?)>>\s*stream\r?\n", re.S)
_LENGTH = re.compile(rb"/Length (\d+)")
_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")
_FONT = re.compile(rb"/BaseFont /(\w+)\+[^/]*/ToUnicode (\d+) 0 R")
_TEXT_OPS = re.compile(rb"/(\w+) [\d.]+ Tf|\[(.*?)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj|(ET)", re.S)
_HEX = re.compile(rb"<([0-9a-fA-F]*)>")


@dataclass(frozen=True, slots=True)
class Stream:
    number: int
    header: bytes
    data: bytes


def streams(pdf: bytes) -> list[Stream]:
    """Every top-level stream, inflated when it is Flate-compressed (images stay as stored)."""
    found = []
    for match in _STREAM.finditer(pdf):
        header = match.group(2)
        length = _LENGTH.search(header)
        assert length is not None, "a stream without a plain /Length"
        data = pdf[match.end() : match.end() + int(length.group(1))]
        if b"/FlateDecode" in header and b"/Subtype /Image" not in header:
            data = zlib.decompress(data)
        found.append(Stream(int(match.group(1)), header, data))
    return found


def _dictionaries(pdf: bytes) -> bytes:
    """The file with its object streams inflated: where the page and font dictionaries are."""
    return pdf + b"".join(s.data for s in streams(pdf) if b"/ObjStm" in s.header)


def page_count(pdf: bytes) -> int:
    """The number of ``/Type /Page`` objects."""
    return len(_PAGE.findall(_dictionaries(pdf)))


def _cmap(data: bytes) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        pairs = _HEX.findall(block)
        for source, target in zip(pairs[::2], pairs[1::2], strict=True):
            mapping[source.decode().lower()] = bytes.fromhex(target.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        values = _HEX.findall(block)
        for low, high, target in zip(values[::3], values[1::3], values[2::3], strict=True):
            start = int(target, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[f"{code:04x}"] = chr(start + offset)
    return mapping


def text(pdf: bytes) -> str:
    """The text drawn on the pages, a line per text object."""
    all_streams = streams(pdf)
    by_number = {s.number: s.data for s in all_streams}
    fonts = {
        name.decode(): _cmap(by_number[int(number)])
        for name, number in _FONT.findall(_dictionaries(pdf))
    }
    lines: list[str] = []
    for stream in all_streams:
        if b"BT" not in stream.data or b"/Subtype" in stream.header or b"/ObjStm" in stream.header:
            continue
        font: dict[str, str] = {}
        line = ""
        for match in _TEXT_OPS.finditer(stream.data):
            name, array, single, end = match.groups()
            if name is not None:
                font = fonts.get(name.decode(), {})
            elif end is not None:
                lines.append(line)
                line = ""
            else:
                hexes = _HEX.findall(array) if array is not None else [single]
                for chunk in hexes:
                    codes = chunk.decode().lower()
                    line += "".join(font.get(codes[i : i + 4], "") for i in range(0, len(codes), 4))
    return "\n".join(lines)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def images_as_png(pdf: bytes) -> list[bytes]:
    """The embedded RGB or grey images, each as a PNG file."""
    pngs = []
    for stream in streams(pdf):
        header = stream.header
        if b"/Subtype /Image" not in header:
            continue
        width = int(re.search(rb"/Width (\d+)", header).group(1))  # type: ignore[union-attr]
        height = int(re.search(rb"/Height (\d+)", header).group(1))  # type: ignore[union-attr]
        colour = 2 if b"/DeviceRGB" in header else 0
        data = stream.data
        if b"/Predictor" not in header:
            # Plain pixels: PNG wants a filter byte (0, none) before every row.
            pixels = zlib.decompress(data)
            row = width * (3 if colour == 2 else 1)
            data = zlib.compress(
                b"".join(b"\0" + pixels[i : i + row] for i in range(0, len(pixels), row))
            )
        # With the PNG predictor the Flate stream is exactly a PNG's image data.
        ihdr = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
        pngs.append(
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", data)
            + _chunk(b"IEND", b"")
        )
    return pngs
