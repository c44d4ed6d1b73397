"""Administration of the chain: stores, staff and their imports, users, and the database's
schema and rollups (used by the CLI). The admin console's pages live under ``/admin``."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
