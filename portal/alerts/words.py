"""Alerts in words (zh-CN and en): the kinds of rule, the signals, and the one sentence
that says what broke, written with the reader's gettext so that the page and the mail say
the same thing in each language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from portal.alerts.signals import EWMA_ABOVE, LANEY_ABOVE, MONTH_THRESHOLD, THRESHOLD
from portal.models import LOWER_IS_BETTER, Alert, AlertKind, Metric

KIND_LABELS: dict[str, Any] = {
    AlertKind.THRESHOLD: _l("Threshold on the figure (of the week, or the month)"),
    AlertKind.CONTROL_CHART: _l("Control chart (unusual week or sustained rise)"),
}

SIGNAL_LABELS: dict[str, Any] = {
    THRESHOLD: _l("Past the threshold"),
    MONTH_THRESHOLD: _l("Past the threshold this month"),
    LANEY_ABOVE: _l("Unusual week (control limit)"),
    EWMA_ABOVE: _l("Sustained rise (EWMA)"),
}

#: What a control chart charts for each metric: a share where higher is worse.
CHARTED_SHARE: dict[str, Any] = {
    Metric.NPS: _l("detractor share"),
    Metric.CSAT: _l("share of answers below 4 (not satisfied)"),
    Metric.COMPLAINT_RATE: _l("cases per receipt"),
}


def alert_sentence(alert: Alert, metric: str, gettext: Callable[[str], str]) -> str:
    """What broke, in one sentence of the reader's language (``gettext`` of that language;
    numbers rounded as they are shown)."""
    _ = gettext
    detail = alert.detail or {}
    names = {
        "value": f"{alert.value or 0.0:.1f}",
        "limit": f"{alert.limit_value or 0.0:.1f}",
        "n": alert.n,
        "center": f"{float(detail.get('center', 0.0)):.1f}",  # type: ignore[arg-type]
        "share": f"{float(detail.get('share', 0.0)):.1f}",  # type: ignore[arg-type]
    }
    if alert.signal == THRESHOLD:
        if metric in LOWER_IS_BETTER:
            return (
                _("The week's figure %(value)s is above the threshold %(limit)s (n = %(n)s).")
                % names
            )
        return (
            _("The week's figure %(value)s is below the threshold %(limit)s (n = %(n)s).") % names
        )
    if alert.signal == MONTH_THRESHOLD:
        if metric in LOWER_IS_BETTER:
            return (
                _("The month's figure %(value)s is above the threshold %(limit)s (n = %(n)s).")
                % names
            )
        return (
            _("The month's figure %(value)s is below the threshold %(limit)s (n = %(n)s).") % names
        )
    if alert.signal == LANEY_ABOVE:
        return (
            _(
                "This week's share %(value)s %% is above its control limit %(limit)s %% "
                "(usual level %(center)s %%, n = %(n)s)."
            )
            % names
        )
    names["value"] = f"{alert.value or 0.0:.2f}"
    names["limit"] = f"{alert.limit_value or 0.0:.2f}"
    return (
        _(
            "The share has stayed above its usual level %(center)s %% for several weeks "
            "(this week %(share)s %%, EWMA %(value)s against the limit %(limit)s)."
        )
        % names
    )
