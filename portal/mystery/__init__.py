"""Mystery shopping: assignments, the shopper's checklist report, QA review, release to the
store, disputes, and the reports built from released visits."""

from flask import Blueprint

bp = Blueprint("mystery", __name__)
