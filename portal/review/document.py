"""The review as a PDF, drawn by WeasyPrint from the same body as the page, in the reader's
language, with the Noto CJK fonts the paper cards use (so Chinese comes out as text, not
boxes)."""

from __future__ import annotations

from flask import render_template

from portal.i18n import current_locale
from portal.review.content import ReviewContent
from portal.review.words import review_words


def render_review_pdf(content: ReviewContent) -> bytes:
    """The review as an A4 PDF in the current language. Needs an application context (the
    templates) and a request or ``force_locale`` for the language."""
    # Imported here: WeasyPrint loads Pango when imported, which no other page needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    document = render_template(
        "review/pdf.html", content=content, locale=current_locale(), **review_words()
    )
    # Everything the review shows is in the document: the renderer fetches nothing.
    fetcher = URLFetcher(allowed_protocols=("data",))
    pdf: bytes = HTML(string=document, url_fetcher=fetcher).write_pdf()
    return pdf
