"""Alert rules, the weekly check that raises alerts from them, and the pages that show
them: rules at /alerts/rules (chain-wide roles), a recipient's alerts at /alerts and on
their home page."""

from flask import Blueprint

bp = Blueprint("alerts", __name__, url_prefix="/alerts")
