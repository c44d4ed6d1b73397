"""Mystery shopping: assignments, the shopper's checklist report, QA review, release to the
store, disputes, and the reports built from released visits."""

from flask import Blueprint

bp = Blueprint("mystery", __name__)

from portal.mystery import draft_views as draft_views  # noqa: E402
from portal.mystery import report_views as report_views  # noqa: E402
from portal.mystery import views as views  # noqa: E402
from portal.mystery import visit_views as visit_views  # noqa: E402
