"""The targeted metrics in words (zh-CN and en)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from portal.models import Metric

METRIC_LABELS: dict[Metric, Any] = {
    Metric.NPS: _l("NPS"),
    Metric.CSAT: _l("Satisfaction (CSAT)"),
    Metric.COMPLAINT_RATE: _l("Complaint rate (per 100 transactions)"),
    Metric.FIRST_RESPONSE: _l("First response within the deadline"),
    Metric.RECOVERY_RATE: _l("Recovery rate"),
    Metric.MYSTERY_SCORE: _l("Mystery-shop score"),
}
