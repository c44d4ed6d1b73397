"""Shopper pages drawn once and filled in: the survey page and the thank-you page of one
survey version, store and language differ between shoppers only by a few strings (the
receipt's token, the form's CSRF token and "opened at" stamp, the validation code).

The first request of a kind draws its page as usual; the page, with each of those strings
replaced by a marker, is kept (per app, a bounded number) and later requests of the same
kind get it with their own strings put in. Drawing the page shell (layout, header, brand,
language switch) was about a quarter of a submit's server time.

Only pages that show nothing else of the visitor's are kept: no signed-in user (the menu),
no flashed message, no query argument but ``lang`` and ``via`` (the language switch links
repeat them). A page whose strings cannot be found in it as given, or whose kept copy would
still hold a piece of them, is not kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from flask import current_app, request, session
from flask_login import current_user
from markupsafe import escape

#: Pages kept per app: a few survey versions x stores x 2 languages x 2 ways in.
LIMIT = 2048
#: The query arguments a kept page may have been asked with (both are part of its kind).
KEPT_ARGUMENTS = frozenset({"lang", "via"})
#: How long a piece of a filled-in string may be found in a kept page (none of the
#: strings filled in is shorter than this).
_PIECE = 8


@dataclass(frozen=True, slots=True)
class _Kept:
    parts: tuple[str, ...]
    #: The name of the string that goes after each part but the last.
    names: tuple[str, ...]

    def fill(self, values: Mapping[str, str]) -> str:
        out = [self.parts[0]]
        for name, part in zip(self.names, self.parts[1:], strict=True):
            out += (values[name], part)
        return "".join(out)


def keepable() -> bool:
    """Whether this request's page may be served from, and kept in, the cache."""
    return (
        not current_user.is_authenticated
        and "_flashes" not in session
        and KEPT_ARGUMENTS.issuperset(request.args.keys())
    )


def drawn_once(kind: Hashable, values: Mapping[str, str], draw: Callable[[], str]) -> str:
    """The page of ``kind`` with ``values`` filled in; ``draw()`` draws it when it is not
    kept yet (or may not be). ``kind`` must name everything else the page shows."""
    if not keepable():
        return draw()
    kept: dict[Hashable, _Kept] = current_app.extensions.setdefault("portal.shopper_pages", {})
    # The language switch's links repeat the query's other arguments as given.
    kind = (kind, tuple(sorted((k, v) for k, v in request.args.items(multi=True) if k != "lang")))
    found = kept.get(kind)
    if found is not None:
        return found.fill(values)
    page = draw()
    template = _template(page, values)
    if template is not None and len(kept) < LIMIT:
        kept[kind] = template
    return page


def _template(page: str, values: Mapping[str, str]) -> _Kept | None:
    """``page`` cut at every occurrence of each value, or None when a value is not found
    as given (escaping would have changed it) or a piece of one would stay."""
    cuts: list[tuple[int, int, str]] = []
    for name, value in values.items():
        if len(value) < _PIECE or str(escape(value)) != value or value not in page:
            return None
        start = page.find(value)
        while start != -1:
            cuts.append((start, start + len(value), name))
            start = page.find(value, start + len(value))
    cuts.sort()
    parts, names, at = [], [], 0
    for start, end, name in cuts:
        if start < at:
            return None  # two values overlap
        parts.append(page[at:start])
        names.append(name)
        at = end
    parts.append(page[at:])
    kept = _Kept(tuple(parts), tuple(names))
    rest = "".join(kept.parts)
    for value in values.values():
        if any(value[i : i + _PIECE] in rest for i in range(len(value) - _PIECE + 1)):
            return None
    return kept
