"""The shopper's pages: the receipt survey, its QR codes, the typed-code entry."""

from flask import Blueprint

bp = Blueprint("shopper", __name__)
