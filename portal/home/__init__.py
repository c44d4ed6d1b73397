"""The landing page and each role's signed-in home page."""

from flask import Blueprint

bp = Blueprint("home", __name__)
