"""Administration of the chain: the admin console's pages (stores, regions, staff and their
imports, users, POS keys, the audit log and the setup checklist) and, for the CLI, the
database's schema, rollups, backups and retention."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
