"""The survey owner's pages (``cx`` and admins): surveys and their drafts, the editor,
preview, publishing, versions, targeting rules and the chain's branding."""

from flask import Blueprint

bp = Blueprint("surveys", __name__, url_prefix="/surveys")
