"""Personal API tokens: each signed-in user creates and revokes their own read tokens
for the metrics API under ``/settings/tokens``; ``create-api-token`` does it from the CLI."""

from flask import Blueprint

bp = Blueprint("tokens", __name__, url_prefix="/settings")
