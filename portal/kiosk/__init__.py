"""Counter tablets in the stores (channel ``kiosk``): the admin console's pages that enrol,
rename and revoke them (``console_bp``, under ``/admin/kiosks``), and the tablet's own
pages under ``/kiosk`` (``bp``): enrolment, the store's survey in a kiosk layout that keeps
working offline (a service worker and a queue in the browser), and the JSON endpoint the
queue is sent to."""

from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")
console_bp = Blueprint("kiosks", __name__, url_prefix="/admin/kiosks")
