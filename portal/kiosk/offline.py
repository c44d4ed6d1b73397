"""What the tablet's service worker keeps for offline use: the survey page in each
language and the files it loads, under a cache name that changes whenever any of them
could (a new survey version, other branding, new scripts or styles), so that a tablet
back online replaces its whole cache at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import url_for

from portal.config import LOCALES
from portal.kiosk.queries import KioskPage
from portal.shopper.survey_page import brand_colour, survey_layout

STATIC = Path(__file__).resolve().parent.parent / "static"
#: The static files the tablet's page loads (besides the survey's own stylesheet).
ASSETS = ("portal.css", "survey.js", "kiosk/kiosk.css", "kiosk/kiosk.js")


@dataclass(frozen=True, slots=True)
class OfflineCache:
    #: Part of the cache's name: a new one means a fresh cache.
    version: str
    #: The tablet's start page (and the page served when no copy of another is kept).
    start_url: str
    #: URLs fetched when the worker is installed.
    urls: tuple[str, ...]


@cache
def _assets_digest() -> str:
    digest = hashlib.sha256()
    for name in ASSETS:
        digest.update((STATIC / name).read_bytes())
    return digest.hexdigest()


def survey_assets(page: KioskPage) -> tuple[str, ...]:
    """The URLs of the stylesheets the survey page of ``page`` loads beyond `ASSETS`."""
    urls = []
    if survey_layout(page.definition, page.store_format).conditional:
        urls.append(url_for("shopper.survey_style", content_hash=page.definition.content_hash))
    colour = brand_colour(page.branding)
    if colour is not None:
        urls.append(url_for("shopper.brand_style", colour=colour))
    if page.branding.logo_sha256:
        urls.append(url_for("shopper.logo", sha=page.branding.logo_sha256))
    return tuple(urls)


def offline_cache(page: KioskPage) -> OfflineCache:
    """The cache of the tablet showing ``page`` (in a request: it builds URLs)."""
    start = url_for("kiosk.index")
    urls = (
        start,
        *(url_for("kiosk.index", lang=locale) for locale in LOCALES),
        *(url_for("static", filename=name) for name in ASSETS),
        *survey_assets(page),
    )
    key = "\n".join((page.definition.content_hash, _assets_digest(), *urls))
    return OfflineCache(hashlib.sha256(key.encode()).hexdigest()[:16], start, urls)
