"""Printing paper survey cards: each card is a receipt of its own (issued the one way every
receipt is, `portal.receipts.issue_receipt`, with ``source`` "paper"), so that it has its
own short code, its own QR code for answering online instead, and the survey version the
targeting rules give it; the cards are drawn as an A6 PDF by WeasyPrint.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask import g, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import Session

from portal.audit import Actor, record_audit
from portal.config import Settings
from portal.errors import DomainError
from portal.models import Receipt, Store
from portal.receipts import issue_receipt, require_open, survey_links
from portal.shopper.survey_page import survey_layout
from portal.versions import definition_of
from surveys.codes import format_short_code
from surveys.definitions import SurveyDefinition
from surveys.qr import render_qr_png

#: ``Receipt.source`` of a paper card.
PAPER_SOURCE = "paper"
#: The most card sides one request draws: WeasyPrint takes 0.05-0.2 s an A6 page, and a
#: page must come well within a server's 30-second timeout. That is 100 cards in one
#: language or 50 in both; a bigger run is a few requests.
MAX_PAGES = 100
#: The card languages' locales, in the order a two-language card prints its sides.
SIDE_LOCALES = ("zh_CN", "en")


class CardPurpose(StrEnum):
    """What the cards are printed for: handed out with a batch of receipts (optionally
    for one cashier), or laid out at the counter for anyone."""

    RECEIPTS = "receipts"
    COUNTER = "counter"


class CardLanguage(StrEnum):
    ZH = "zh_CN"
    EN = "en"
    #: Chinese on the front, English on the back (print on both sides).
    BOTH = "both"

    @property
    def locales(self) -> tuple[str, ...]:
        return SIDE_LOCALES if self is CardLanguage.BOTH else (self.value,)


class TooManyCards(DomainError):
    status = 422
    code = "too_many_cards"


@dataclass(frozen=True, slots=True)
class PaperCard:
    """One printed card: its code as printed, the link its QR code holds, and the survey
    version it asks."""

    receipt: Receipt
    short_code: str
    survey_url: str
    definition: SurveyDefinition
    expires_at: datetime


def issue_paper_cards(
    session: Session,
    settings: Settings,
    store: Store,
    count: int,
    *,
    purpose: CardPurpose,
    language: CardLanguage,
    actor: Actor,
    now: datetime,
    staff_code: str | None = None,
) -> list[PaperCard]:
    """Issue ``count`` paper cards for ``store``: one receipt each (``source`` "paper",
    no cashier unless ``staff_code`` names one), counted as issued like any receipt, and
    one audit entry for the run.

    Raises
    ------
    TooManyCards
        ``count`` is below 1, or its cards in ``language`` would be more than `MAX_PAGES`
        pages.
    StoreClosed
        The store is closed.
    UnknownStaff
        ``staff_code`` is not an active staff member of the store.
    """
    most = max_cards(language)
    if not 1 <= count <= most:
        raise TooManyCards(
            _l("Print between 1 and %(n)s cards at a time in this language choice.", n=most),
            field="count",
        )
    require_open(store)
    # A random run id: two people printing in the same second get different cards (a
    # transaction id issued before would give back the same receipts).
    run = f"{now:%Y%m%d%H%M}-{secrets.token_hex(4)}"
    cards = []
    for n in range(count):
        issued = issue_receipt(
            session,
            settings,
            store=store,
            staff_code=staff_code,
            transaction_id=f"PAPER-{purpose.value.upper()}-{run}-{n + 1:04d}",
            issued_at=None,
            total_cents=None,
            now=now,
            source=PAPER_SOURCE,
        )
        receipt = issued.receipt
        cards.append(
            PaperCard(
                receipt=receipt,
                short_code=format_short_code(receipt.short_code),
                survey_url=survey_links(settings, issued.token).survey_url,
                definition=definition_of(receipt.survey_version),
                expires_at=receipt.expires_at,
            )
        )
    record_audit(
        session,
        actor,
        "paper.cards_printed",
        "store",
        store.code,
        now,
        store_code=store.code,
        cards=count,
        purpose=purpose.value,
        language=language.value,
        staff_code=staff_code,
    )
    return cards


def max_cards(language: CardLanguage) -> int:
    """The most cards one request prints in ``language`` (`MAX_PAGES` sides)."""
    return MAX_PAGES // len(language.locales)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _side(card: PaperCard, store: Store, purpose: CardPurpose, locale: str) -> Markup:
    """One side of one card, in ``locale`` (a two-language card has two): a rendered
    template, every text in it escaped there."""
    with force_locale(locale):
        return Markup(
            render_template(
                "paper/_card.html",
                card=card,
                store=store,
                purpose=purpose.value,
                locale=locale,
                layout=survey_layout(card.definition, store.format),
                qr=_data_uri(render_qr_png(card.survey_url)),
            )
        )


def render_cards_pdf(
    cards: Sequence[PaperCard], store: Store, *, purpose: CardPurpose, language: CardLanguage
) -> bytes:
    """The cards as one PDF: each card on A6, starting on a new page (a two-language
    card: Chinese on the front page, English on the back). Needs an application context
    (the templates)."""
    # Imported here: WeasyPrint loads Pango when imported, which no other page needs.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Flask-Babel's force_locale does nothing while ``g`` is empty (a command's fresh
    # application context): each side would come out in the default language.
    g.setdefault("paper_cards", True)
    sides = [_side(card, store, purpose, loc) for card in cards for loc in language.locales]
    document = render_template("paper/cards.html", sides=sides, store=store)
    # Everything a card shows is inside the document (the QR codes as data: URIs): the
    # renderer fetches no file and no URL.
    fetcher = URLFetcher(allowed_protocols=("data",))
    pdf: bytes = HTML(string=document, url_fetcher=fetcher).write_pdf()
    return pdf
