"""Paper survey cards: printing them (each a receipt of its own, with its short code, its QR
code and its survey version's questions), keying in the returned cards, and a second
person's check of a sample of the keyed cards."""

from flask import Blueprint

bp = Blueprint("paper", __name__)
