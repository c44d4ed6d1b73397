"""The read-only metrics API for spreadsheets and BI tools, with personal API tokens."""

from flask import Blueprint

bp = Blueprint("metrics_api", __name__, url_prefix="/api/v1/metrics")
