"""Exports: responses and per-store summaries as CSV and XLSX downloads, streamed so that
memory stays flat however many rows a range holds."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")
