"""Thank-you validation codes: a till or manager checks one and redeems it once."""

from flask import Blueprint

bp = Blueprint("codes", __name__, url_prefix="/codes")
