"""Tests for QR rendering (surveys.qr), decoded with the real zbar decoder."""

import io
import random
import re
import shutil
import string
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from PIL import Image

from surveys.codes import new_short_code
from surveys.qr import qr_modules, render_qr_png, render_qr_svg
from surveys.tokens import sign_receipt_token

SVG_NS = "{http://www.w3.org/2000/svg}"
ZBARIMG = shutil.which("zbarimg")
needs_zbarimg = pytest.mark.skipif(
    ZBARIMG is None,
    reason="zbarimg is not installed (Debian package zbar-tools); cannot decode QR images",
)


def signed_url(token_id: str) -> str:
    token = sign_receipt_token("test-secret", token_id, datetime(2031, 1, 1, tzinfo=UTC))
    return f"https://feedback.example.com/r/{token}"


URLS = [
    signed_url("AbCd_efGH-ijKLmn"),
    signed_url("zzzzzzzzzzzzzzzz"),
    signed_url("0000000000000000"),
    f"https://feedback.example.com/c/{new_short_code()}",
    "HTTPS://FB.EXAMPLE.COM/R/ABCDE-FGHJ0",
    "https://feedback.example.com/r/x?store=1042&lang=de&utm_source=receipt",
    "https://example.com/",
]


def zbar_decode(*paths) -> list[str]:
    """Decode each image with zbarimg and return one decoded text per image, in order."""
    assert ZBARIMG is not None
    result = subprocess.run(
        [ZBARIMG, "--raw", "-q", *map(str, paths)],
        capture_output=True,
        check=False,
        timeout=120,
    )
    # Exit status 4 means no code was found in some image; the comparison shows which.
    assert result.returncode in (0, 4), result.stderr
    return result.stdout.decode("utf-8").splitlines()


def svg_dark_modules(svg: bytes) -> set[tuple[int, int]]:
    root = ET.fromstring(svg)
    (path,) = root.iter(f"{SVG_NS}path")
    dark = set()
    commands = path.get("d")
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z", commands)
    assert "".join(f"M{x} {y}h{w}v1h-{w2}z" for x, y, w, w2 in runs) == commands
    for x, y, width, back in runs:
        assert width == back
        for column in range(int(x), int(x) + int(width)):
            assert (column, int(y)) not in dark, "runs must not overlap"
            dark.add((column, int(y)))
    return dark


def matrix_dark_modules(modules: list[list[bool]]) -> set[tuple[int, int]]:
    return {(x, y) for y, row in enumerate(modules) for x, dark in enumerate(row) if dark}


@needs_zbarimg
@pytest.mark.parametrize("url", URLS)
def test_png_decodes_to_exactly_the_url(url, tmp_path):
    path = tmp_path / "code.png"
    path.write_bytes(render_qr_png(url))
    assert zbar_decode(path) == [url]


@needs_zbarimg
def test_png_of_many_different_urls_decode_with_small_modules(tmp_path):
    rng = random.Random(18004)
    url_chars = string.ascii_letters + string.digits + "-_."
    urls = [
        signed_url("".join(rng.choice(url_chars[:-1]) for _ in range(16))) for _ in range(40)
    ] + [
        "https://s.example.org/"
        + "".join(rng.choice(url_chars) for _ in range(rng.randint(1, 150)))
        for _ in range(40)
    ]
    paths = []
    for number, url in enumerate(urls):
        path = tmp_path / f"{number:03d}.png"
        path.write_bytes(render_qr_png(url, module_px=3))
        paths.append(path)
    assert zbar_decode(*paths) == urls


def test_png_pixels_match_the_module_matrix():
    url = URLS[0]
    modules = qr_modules(url)
    image = Image.open(io.BytesIO(render_qr_png(url, module_px=5)))
    assert image.format == "PNG"
    assert image.mode in ("1", "L")
    assert image.size == (len(modules) * 5, len(modules) * 5)
    pixels = image.convert("L").load()
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            # Sample two corners of each 5x5 block: nearest-neighbour scaling fills it.
            for dx, dy in ((0, 0), (4, 4)):
                assert pixels[x * 5 + dx, y * 5 + dy] == (0 if dark else 255)


def test_modules_have_a_four_module_light_quiet_zone_and_a_finder_pattern():
    modules = qr_modules(URLS[0])
    size = len(modules)
    assert all(len(row) == size for row in modules)
    # Versions 1-40 are 21..177 modules wide, plus 4 light modules on each side.
    assert (size - 8 - 17) % 4 == 0 and 21 <= size - 8 <= 177
    for index in range(size):
        for edge in (0, 1, 2, 3, size - 4, size - 3, size - 2, size - 1):
            assert not modules[edge][index]
            assert not modules[index][edge]
    # Top-left finder: a 7x7 dark ring starting right after the quiet zone.
    assert all(modules[4][4 + i] and modules[10][4 + i] for i in range(7))


def test_module_rows_are_independent_lists():
    modules = qr_modules("https://example.com/")
    modules[0][0] = True
    assert not any(row[0] for row in modules[1:4])


def test_module_matrix_is_deterministic():
    assert qr_modules(URLS[0]) == qr_modules(URLS[0])


def test_svg_is_standalone_xml_with_viewbox_in_modules_and_size_in_pixels():
    url = URLS[0]
    size = len(qr_modules(url))
    root = ET.fromstring(render_qr_svg(url, module_px=6))
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("viewBox") == f"0 0 {size} {size}"
    assert root.get("width") == str(size * 6)
    assert root.get("height") == str(size * 6)
    assert root.get("shape-rendering") == "crispEdges"
    assert len(list(root.iter(f"{SVG_NS}path"))) == 1


@pytest.mark.parametrize("url", URLS)
def test_svg_path_draws_exactly_the_dark_modules(url):
    assert svg_dark_modules(render_qr_svg(url)) == matrix_dark_modules(qr_modules(url))


def test_svg_merges_each_horizontal_run_into_one_rectangle():
    url = URLS[0]
    modules = qr_modules(url)
    runs = sum(
        1 for row in modules for x, dark in enumerate(row) if dark and (x == 0 or not row[x - 1])
    )
    (path,) = ET.fromstring(render_qr_svg(url)).iter(f"{SVG_NS}path")
    assert path.get("d").count("M") == runs


@pytest.mark.parametrize("module_px", [0, -3, 2.5, True])
def test_non_positive_or_fractional_module_size_is_refused(module_px):
    with pytest.raises(ValueError, match="module_px"):
        render_qr_png("https://example.com/", module_px=module_px)
    with pytest.raises(ValueError, match="module_px"):
        render_qr_svg("https://example.com/", module_px=module_px)
