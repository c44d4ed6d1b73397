"""What comments are about: theme and sentiment words, theme shares and their comments."""

from flask import Blueprint

bp = Blueprint("themes", __name__)
