"""The translation catalogs: complete, well-formed, in step with the source, and found.

Works on the .po files directly and runs ``pybabel extract`` the way babel.cfg documents
it; no app, no database, no compiled .mo files needed; a couple of seconds in all.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from portal.config import LOCALES

ROOT = Path(__file__).resolve().parents[3]
TRANSLATIONS = ROOT / "portal" / "translations"
CATALOGS = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
#: The locales English source strings are written in; they have no catalog.
SOURCE_LOCALES = {"en"}

# Keep in step with the command in babel.cfg's header.
EXTRACT_ARGS = [
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "_l",
    "-k",
    "lazy_gettext",
    "-k",
    "lazy_ngettext:1,2",
    # pybabel's default also skips directories starting with "_" (templates/_macros).
    "--ignore-dirs",
    ".* __pycache__",
]
#: What babel.cfg maps: the files extraction must have read.
SOURCES = {"portal": "**/*.py", "templates": "**/*.html"}

#: A named placeholder with its conversion, e.g. %(name)s or %(total)05.1f.
NAMED = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")


def pybabel() -> list[str]:
    script = Path(sys.executable).with_name("pybabel")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "babel.messages.frontend"]


def load(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def texts(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def placeholders(text: str) -> set[str]:
    return set(NAMED.findall(text))


def stray_percents(text: str) -> int:
    """Percent signs that are neither a named placeholder nor an escaped %%."""
    return NAMED.sub("", text).replace("%%", "").count("%")


def messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def catalog_id(path: Path) -> str:
    return path.parent.parent.name


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    out = tmp_path_factory.mktemp("i18n") / "messages.pot"
    result = subprocess.run(
        [*pybabel(), *EXTRACT_ARGS, "-o", str(out), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    read = {
        line.removeprefix("extracting messages from ").split(" (")[0]
        for line in (result.stdout + result.stderr).splitlines()
        if line.startswith("extracting messages from ")
    }
    expected = {
        path.relative_to(ROOT).as_posix()
        for folder, pattern in SOURCES.items()
        for path in (ROOT / folder).glob(pattern)
        if "__pycache__" not in path.parts
    }
    assert expected - read == set(), "pybabel extract skipped these files"
    return load(out)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The catalogs compiled into a scratch tree laid out like portal/translations."""
    root = tmp_path_factory.mktemp("compiled")
    for path in CATALOGS:
        folder = root / catalog_id(path) / "LC_MESSAGES"
        folder.mkdir(parents=True)
        with (folder / "messages.mo").open("wb") as f:
            write_mo(f, load(path))
    return root


def test_there_are_catalogs() -> None:
    assert CATALOGS, f"no catalogs under {TRANSLATIONS}"


@pytest.mark.parametrize("locale", sorted(set(LOCALES) - SOURCE_LOCALES))
def test_offered_locale_finds_its_catalog(locale: str, compiled: Path) -> None:
    """Load the way Flask-Babel does: Babel parses the locale first, and zh_CN becomes
    zh_Hans_CN, for which gettext looks in zh_Hans_CN/ and zh/ (never zh_CN/)."""
    parsed = Locale.parse(locale)
    translations = Translations.load(str(compiled), [parsed])
    assert isinstance(translations, Translations), (
        f"no catalog is loaded for {locale!r}: Babel asks for {str(parsed)!r}, so the "
        f"catalog must be in {TRANSLATIONS.name}/{parsed}/ or {TRANSLATIONS.name}/"
        f"{parsed.language}/; found {[catalog_id(p) for p in CATALOGS]}"
    )
    loaded = Path(translations.files[0]).parent.parent.name
    catalog = load(TRANSLATIONS / loaded / "LC_MESSAGES" / "messages.po")
    msgid, msgstr = next(
        (m.id, m.string) for m in messages(catalog) if isinstance(m.id, str) and m.string
    )
    assert translations.gettext(msgid) == msgstr


@pytest.mark.parametrize("path", CATALOGS, ids=catalog_id)
def test_catalog_is_complete_and_well_formed(path: Path) -> None:
    catalog = load(path)
    problems = []
    for message in messages(catalog):
        ids, strings = texts(message.id), texts(message.string)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if not strings or not all(s.strip() for s in strings):
            problems.append(f"untranslated: {message.id!r}")
            continue
        # With plurals, each translated form is compared with the plural msgid.
        source = ids[-1]
        for string in strings:
            if placeholders(string) != placeholders(source):
                problems.append(
                    f"placeholders differ: {source!r} {sorted(placeholders(source))}"
                    f" -> {string!r} {sorted(placeholders(string))}"
                )
            if stray_percents(string) != stray_percents(source):
                problems.append(f"stray '%' (write %% in templates): {string!r}")
    for message, errors in catalog.check():
        problems.extend(f"{message.id!r}: {error}" for error in errors)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CATALOGS, ids=catalog_id)
def test_every_source_string_is_translated(path: Path, extracted: Catalog) -> None:
    catalog = load(path)
    missing = [
        message.id
        for message in messages(extracted)
        if (found := catalog.get(message.id)) is None
        or found.fuzzy
        or not all(s.strip() for s in texts(found.string))
    ]
    assert not missing, (
        f"{len(missing)} source strings are not translated in {catalog_id(path)}; run the "
        "extract and update commands in babel.cfg, then translate:\n"
        + "\n".join(repr(m) for m in missing)
    )
