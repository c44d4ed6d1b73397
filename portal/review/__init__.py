"""The monthly service review: built once a month per store and per region (`builder`),
archived and mailed (`operations`, the ``monthly-review`` job), read as a page or a PDF."""

from flask import Blueprint

bp = Blueprint("review", __name__)
