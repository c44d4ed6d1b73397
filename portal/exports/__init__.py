"""Exports: responses and per-store summaries as CSV and XLSX downloads, streamed so that
memory stays flat however many rows a range holds."""

from flask import Blueprint

# The page template lives beside the package (exports/templates/exports/index.html); the
# app's own templates folder is searched first, so a copy there would take precedence.
bp = Blueprint("exports", __name__, url_prefix="/exports")

from portal.exports import views  # noqa: E402,F401
