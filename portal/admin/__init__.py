"""Administration of the chain: the admin console in the browser (stores, staff, users, POS
keys, the audit log and the setup checklist), and the CLI's stores, staff, schema and
rollups."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
