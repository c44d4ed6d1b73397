"""The documentation stands on its own in a fresh clone: every relative link (and image) in
the Markdown files at the top of the repository and in docs/ names a file of the
repository, and none points outside it (a sibling folder of one machine is not in a clone).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
MARKDOWN = sorted([*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md")])

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
# [text](target "title") and ![alt](target), and reference definitions [name]: target
_INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
_HTML = re.compile(r"""(?:href|src)=["']([^"']+)["']""")
_OUTSIDE_MENTION = re.compile(r"`(\.\./[^`\s]+)`")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:...


def links(text: str) -> list[str]:
    """The link targets of a Markdown text, code blocks and code spans left out."""
    prose = _CODE_SPAN.sub("", _FENCE.sub("", text))
    return [
        *_INLINE.findall(prose),
        *_REFERENCE.findall(prose),
        *_HTML.findall(prose),
    ]


def broken(page: Path) -> list[str]:
    """The relative links of ``page`` that name no file or folder of the repository."""
    wrong = []
    for target in links(page.read_text(encoding="utf-8")):
        if _EXTERNAL.match(target) or target.startswith("#"):
            continue
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        resolved = (ROOT / path.lstrip("/")) if path.startswith("/") else page.parent / path
        resolved = resolved.resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            wrong.append(target)
    return wrong


def test_the_top_and_docs_markdown_files_are_found() -> None:
    names = {page.relative_to(ROOT).as_posix() for page in MARKDOWN}
    assert {"README.md", "SECURITY.md", "docs/ARCHITECTURE.md", "docs/DESIGN.md"} <= names


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_names_a_file_of_the_repository(page: Path) -> None:
    assert broken(page) == []


@pytest.mark.parametrize("page", MARKDOWN, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_page_sends_the_reader_outside_the_repository(page: Path) -> None:
    # A path written as code is still an instruction to open it.
    assert _OUTSIDE_MENTION.findall(page.read_text(encoding="utf-8")) == []


def test_the_link_check_sees_a_broken_link(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "[design](../shared/DESIGN.md) ![shot](docs/nothing.png) [ok](https://example.com)\n"
        "```\n[in code](missing.md)\n```\n[ref]: missing-too.md\n",
        encoding="utf-8",
    )
    assert broken(page) == ["../shared/DESIGN.md", "docs/nothing.png", "missing-too.md"]
