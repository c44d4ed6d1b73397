"""Choosing the page language: ``?lang=`` (remembered in the session, and as the signed-in
user's preference), then the signed-in user's preference (`User.locale`), then the
session's, then the browser's Accept-Language, then the configured default. Only zh_CN and
en are offered. Mail is written in its recipient's language with `mail_translations`,
which needs no request.

Babel reads ``zh_CN`` as ``zh_Hans_CN`` and gettext then looks in ``zh_Hans_CN/`` and
``zh/``, never ``zh_CN/``: that is why the catalog lives in ``translations/zh/``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from babel.support import NullTranslations, Translations
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from portal.config import LOCALES, current_settings
from portal.models import User

TRANSLATIONS = Path(__file__).parent / "translations"


F = TypeVar("F", bound=Callable[..., Any])


def fixed_language(view: F) -> F:
    """Mark a view whose ``?lang=`` chooses the language of its own response only: it is
    remembered neither in the session nor as the signed-in user's preference (the survey
    preview's frames, one per language, side by side on the owner's page)."""
    view.portal_fixed_language = True  # type: ignore[attr-defined]
    return view


def is_fixed_language_request() -> bool:
    """Whether this request's view is a `fixed_language` one."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "portal_fixed_language", False))


def select_locale() -> str:
    if not has_request_context():
        # The CLI speaks English, like the rest of its output.
        return "en"
    asked = request.args.get("lang", "").replace("-", "_")
    if asked in LOCALES:
        if not is_fixed_language_request():
            session["lang"] = asked
        return asked
    if request.path.startswith("/api/"):
        # Tills get English unless they ask otherwise: integrators read these messages.
        return (request.accept_languages.best_match(["zh-CN", "en"]) or "en").replace("-", "_")
    preferred = getattr(current_user, "locale", None)
    if preferred in LOCALES:
        return str(preferred)
    remembered = session.get("lang")
    if remembered in LOCALES:
        return str(remembered)
    # Werkzeug matches "zh", "zh-Hans" and "zh-TW" to zh-CN by primary tag.
    best = request.accept_languages.best_match(["zh-CN", "en"])
    if best is not None:
        return best.replace("-", "_")
    return current_settings().default_locale


def current_locale() -> str:
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


@cache
def mail_translations(locale: str) -> NullTranslations:
    """The catalog of ``locale`` for text written outside a request (mail); English, the
    source language, has none."""
    return Translations.load(str(TRANSLATIONS), [locale])


@dataclass(frozen=True, slots=True)
class MailText:
    subject: str
    body: str


def mail_languages(user: User) -> tuple[str, ...]:
    """The languages of mail to ``user``: their preference, or, when they have none, the
    chain's language and English, in that order."""
    return (user.locale,) if user.locale in LOCALES else LOCALES


def in_languages(user: User, write: Callable[[str], MailText]) -> MailText:
    """``write(locale)`` for each of ``user``'s mail languages, joined: the subjects with
    " / ", the bodies one after the other."""
    parts = [write(locale) for locale in mail_languages(user)]
    return MailText(
        subject=" / ".join(p.subject for p in parts),
        body="\n\n----------\n\n".join(p.body for p in parts),
    )
