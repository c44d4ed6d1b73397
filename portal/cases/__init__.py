"""Follow-up cases: unhappy customers and complaints, with a 24-hour first-response deadline."""

from flask import Blueprint

bp = Blueprint("cases", __name__)
