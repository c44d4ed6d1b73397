"""The POS JSON API: tills ask for a survey token and QR code for each receipt."""

from flask import Blueprint

bp = Blueprint("pos_api", __name__, url_prefix="/api/v1")
