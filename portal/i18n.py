"""Choosing the page language: ``?lang=`` (remembered in the session), then the browser's
Accept-Language, then the configured default. Only zh_CN and en are offered.

Babel reads ``zh_CN`` as ``zh_Hans_CN`` and gettext then looks in ``zh_Hans_CN/`` and
``zh/``, never ``zh_CN/``: that is why the catalog lives in ``translations/zh/``."""

from __future__ import annotations

from flask import has_request_context, request, session
from flask_babel import get_locale

from portal.config import LOCALES, current_settings


def select_locale() -> str:
    if not has_request_context():
        # The CLI speaks English, like the rest of its output.
        return "en"
    asked = request.args.get("lang", "").replace("-", "_")
    if asked in LOCALES:
        session["lang"] = asked
        return asked
    if request.path.startswith("/api/"):
        # Tills get English unless they ask otherwise: integrators read these messages.
        return (request.accept_languages.best_match(["zh-CN", "en"]) or "en").replace("-", "_")
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
