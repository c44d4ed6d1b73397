"""The header row of every export in the reader's language: the one mapping from each
export's column keys (the row dataclasses' field names, which stay the code's names) to
the words a spreadsheet shows. The audit log's CSV names its own columns
(`portal.admin.audit_views`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.exports.custom import CustomColumn

#: Shoppers' answers (`ResponseExportRow`).
RESPONSE_HEADERS: dict[str, Any] = {
    "response_id": _l("Answer no."),
    "submitted_at": _l("Answered at"),
    "store_code": _l("Store code"),
    "store_name": _l("Store name"),
    "region": _l("Region"),
    "staff_code": _l("Staff code"),
    "staff_name": _l("Staff name"),
    "nps": _l("Recommend (0–10)"),
    "nps_group": _l("Promoter, passive or detractor"),
    "csat": _l("Satisfaction (1–5)"),
    "rating_friendliness": _l("Friendliness (1–5)"),
    "rating_speed": _l("Speed (1–5)"),
    "rating_availability": _l("Availability (1–5)"),
    "rating_cleanliness": _l("Cleanliness (1–5)"),
    "rating_knowledge": _l("Knowledge (1–5)"),
    "problem_reported": _l("Problem reported"),
    "problem_category": _l("Problem"),
    "comment": _l("Comment"),
    "locale": _l("Language"),
    "redeemed_at": _l("Thank-you code redeemed at"),
    "channel": _l("Answer channel"),
    "survey": _l("Survey"),
    "survey_version": _l("Survey version"),
    "themes": _l("Comment themes"),
}
#: Each store's figures for the range (`StoreSummaryRow`).
SUMMARY_HEADERS: dict[str, Any] = {
    "store_code": _l("Store code"),
    "store_name": _l("Store name"),
    "region": _l("Region"),
    "n": _l("Answers"),
    "promoters": _l("Promoters"),
    "passives": _l("Passives"),
    "detractors": _l("Detractors"),
    "nps": _l("NPS"),
    "nps_ci_low": _l("NPS interval, low end"),
    "nps_ci_high": _l("NPS interval, high end"),
    "csat_n": _l("Satisfaction answers"),
    "csat_top2": _l("Satisfied (4–5)"),
    "csat_percent": _l("Satisfied, share"),
    "csat_ci_low": _l("Satisfied interval, low end"),
    "csat_ci_high": _l("Satisfied interval, high end"),
}
#: The month's service-star decisions for payroll (`PayrollRow`).
PAYROLL_HEADERS: dict[str, Any] = {
    "month": _l("Month"),
    "staff_code": _l("Staff code"),
    "staff_name": _l("Staff name"),
    "store_code": _l("Store code"),
    "store_name": _l("Store name"),
    "region": _l("Region"),
    "rank": _l("Rank"),
    "composite": _l("Score"),
    "decision": _l("Decision"),
    "decided_at": _l("Decided at"),
}


def header_row(columns: Sequence[str], labels: Mapping[str, Any]) -> list[str]:
    """The header words of ``columns`` in the current language."""
    return [str(labels[column]) for column in columns]


def custom_headers(columns: Sequence[CustomColumn], locale: str) -> list[str]:
    """The header words of the custom questions' columns: each key with the question's
    wording in ``locale``, so that a column stays identifiable whatever the wording."""
    return [
        _("%(key)s: %(question)s", key=column.key, question=column.text.get(locale))
        for column in columns
    ]
