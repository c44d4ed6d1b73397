"""Every page, for every role that may open it, in Chinese and in English: no word of
the other language, no internal key (``in_review``, ``flagged_answers``) on it.

The pages come from the URL map, so a new page is walked as soon as it exists (and the
test says which endpoint needs a line in `pages.PAGES`). All problems are collected and
reported at once, page by page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flask import url_for

from tests.portal.translated.conftest import Walk
from tests.portal.translated.pages import NOT_PAGES, PAGES
from tests.portal.translated.text import page_language, visible_texts
from tests.portal.translated.world import ROLE_OF_LOGIN

LANGUAGES = {"zh-CN": "zh_CN", "en": "en"}
#: Content types read as pages; SVG charts are read too (their labels are text).
READ_TYPES = ("text/html", "image/svg+xml")


@dataclass(frozen=True, slots=True)
class Visit:
    endpoint: str
    login: str
    url: str


def get_endpoints(walk: Walk) -> list[str]:
    return sorted(
        {rule.endpoint for rule in walk.app.url_map.iter_rules() if "GET" in (rule.methods or ())}
    )


def logins_for(walk: Walk, endpoint: str) -> list[str]:
    roles = getattr(walk.app.view_functions[endpoint], "portal_roles", None)
    if roles is None:
        return ["anonymous"]
    return [login for login, role in ROLE_OF_LOGIN.items() if role in roles]


def visits(walk: Walk) -> Iterator[Visit]:
    for endpoint in get_endpoints(walk):
        if endpoint in NOT_PAGES:
            continue
        for login in logins_for(walk, endpoint):
            who = walk.world.people.get(login)
            for values in PAGES[endpoint](walk.world, who):
                # The URL is made outside the request the client sends: a context left
                # pushed would keep the first request's language for the next.
                with walk.app.test_request_context():
                    url = url_for(endpoint, **values)
                yield Visit(endpoint, login, url)


def test_every_get_endpoint_is_walked_or_excused(walk: Walk) -> None:
    missing = [e for e in get_endpoints(walk) if e not in PAGES and e not in NOT_PAGES]
    assert not missing, (
        "these GET endpoints are not walked by the translation test: add a line to PAGES "
        "in tests/portal/translated/pages.py giving the URL values to open each with "
        f"(or, for a file or JSON endpoint, to NOT_PAGES with the reason): {missing}"
    )
    stale = sorted((set(PAGES) | set(NOT_PAGES)) - set(get_endpoints(walk)))
    assert not stale, f"no such GET endpoints any more: {stale}"


def test_every_page_is_in_its_language_only(walk: Walk) -> None:
    problems: list[str] = []
    opened: dict[tuple[str, str], int] = {}
    for visit in visits(walk):
        client = walk.clients[visit.login]
        for accept, lang in LANGUAGES.items():
            response = client.get(visit.url, headers={"Accept-Language": accept})
            where = f"{visit.url} [{visit.login}, {lang}]"
            if response.status_code != 200:
                problems.append(f"{where}: status {response.status_code}")
                continue
            if not response.mimetype.startswith(READ_TYPES):
                problems.append(f"{where}: {response.mimetype} is not a page")
                continue
            page = response.get_data(as_text=True)
            if response.mimetype == "text/html" and page_language(page) != accept:
                problems.append(f"{where}: the page says lang={page_language(page)!r}")
                continue
            texts = visible_texts(page, lang, svg=response.mimetype == "image/svg+xml")
            for offence in dict.fromkeys(walk.checker.offences(texts, lang)):
                problems.append(f"{where}: {offence!r}")
            opened[(visit.endpoint, lang)] = opened.get((visit.endpoint, lang), 0) + 1
    walked = {endpoint for endpoint, _ in opened}
    unopened = sorted(set(PAGES) - walked)
    print(f"{sum(opened.values())} page views checked over {len(walked)} endpoints")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert not unopened, f"no variant of these pages was opened for any role: {unopened}"
