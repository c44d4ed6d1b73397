"""The screenshots README.md shows are in the repository: every image it names exists and is a
PNG, every PNG in docs/screenshots/ is shown (a renamed page leaves no stale file behind),
and together they stay small enough for a clone (`scripts/screenshots` writes palette PNGs
at pixel ratio 1; a run at ratio 2 would be about four times as large)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SCREENSHOTS = ROOT / "docs" / "screenshots"
#: What all the screenshots together may weigh.
BUDGET_BYTES = 4 * 1024 * 1024

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
# ![alt](path "title") and <img ... src="path" ...>
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_IMAGE = re.compile(r"""<img\b[^>]*?\bsrc=["']([^"']+)["']""", re.I)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def images(markdown: str) -> list[str]:
    """The local images a Markdown text shows, in order (code blocks left out)."""
    prose = _FENCE.sub("", markdown)
    found = [
        (match.start(), match.group(1))
        for pattern in (_MARKDOWN_IMAGE, _HTML_IMAGE)
        for match in pattern.finditer(prose)
    ]
    return [path for _, path in sorted(found) if not _EXTERNAL.match(path)]


def missing_images(page: Path) -> list[str]:
    """The images ``page`` (at the top of its repository) shows that are not PNG files of
    that repository."""
    top = page.parent.resolve()
    wrong = []
    for path in images(page.read_text(encoding="utf-8")):
        file = (top / path).resolve()
        if not file.is_relative_to(top) or not file.is_file():
            wrong.append(path)
        elif file.read_bytes()[:8] != _PNG_SIGNATURE:
            wrong.append(path)
    return wrong


def test_every_image_the_readme_shows_exists() -> None:
    shown = images(README.read_text(encoding="utf-8"))
    assert len(shown) >= 20, shown  # the parser found the screenshot table
    assert missing_images(README) == []


def test_every_screenshot_is_shown_in_the_readme() -> None:
    shown = {(ROOT / path).resolve() for path in images(README.read_text(encoding="utf-8"))}
    unshown = sorted(p.name for p in SCREENSHOTS.glob("*.png") if p.resolve() not in shown)
    assert unshown == []


def test_each_console_and_home_page_is_shown_in_both_languages() -> None:
    names = {Path(path).name for path in images(README.read_text(encoding="utf-8"))}
    chinese = {name.removesuffix("-zh.png") for name in names if name.endswith("-zh.png")}
    english = {name.removesuffix("-en.png") for name in names if name.endswith("-en.png")}
    # The thank-you page is shown once: it is the same card in both languages.
    assert chinese - {"thanks"} == english


def test_the_screenshots_stay_small() -> None:
    total = sum(p.stat().st_size for p in SCREENSHOTS.glob("*.png"))
    assert total <= BUDGET_BYTES, f"{total / 1024 / 1024:.1f} MB of screenshots"


def test_the_check_sees_a_missing_image_and_a_file_that_is_not_a_png(tmp_path: Path) -> None:
    (tmp_path / "shot.png").write_bytes(_PNG_SIGNATURE + b"rest")
    (tmp_path / "fake.png").write_text("not a picture", encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text(
        '![ok](shot.png) <img src="gone.png" width="10"> ![fake](fake.png)\n'
        "![remote](https://example.com/a.png)\n```\n![in code](also-gone.png)\n```\n",
        encoding="utf-8",
    )
    assert missing_images(page) == ["gone.png", "fake.png"]
