"""gunicorn's settings for serving the portal in production (docs/deployment.md).

    gunicorn -c gunicorn.conf.py "portal:create_app()"

The portal's own settings come from ``PORTAL_*`` variables as always; the few here decide
how the process serves, and may be set from the environment too:

- ``PORTAL_BIND``: where to listen (``127.0.0.1:8000``; ``0.0.0.0:8000`` when a proxy on
  another machine connects, ``unix:/run/portal/web.sock`` for a proxy on this one);
- ``PORTAL_WORKERS``: worker processes (2 × CPUs + 1, at most 12);
- ``PORTAL_THREADS``: threads per worker (1: sync workers; more selects gthread workers,
  for pages that wait on the database more than they compute);
- ``PORTAL_TIMEOUT``: seconds a request may take before its worker is replaced (60);
- ``PORTAL_FORWARDED_ALLOW_IPS``: the proxies whose ``X-Forwarded-*`` headers gunicorn
  believes (``127.0.0.1``). The portal believes them only with ``PORTAL_TRUSTED_PROXIES``
  set too: that is the setting that matters for client addresses and the scheme.

Workers load the application themselves (no ``preload_app``): each opens its own database
connections, which must never be shared across a fork. ``kill -HUP <master>`` starts new
workers with new code and lets the old ones finish their requests (``graceful_timeout``);
``max_requests`` recycles a worker now and then, so no slow leak can grow for weeks.
"""

from __future__ import annotations

import multiprocessing
import os


def _whole(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else default


bind = [os.environ.get("PORTAL_BIND", "127.0.0.1:8000")]
workers = _whole("PORTAL_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 12))
threads = _whole("PORTAL_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

timeout = _whole("PORTAL_TIMEOUT", 60)
# On SIGTERM or SIGHUP, the requests under way get this long to finish.
graceful_timeout = 30
# A proxy keeps its connections open between requests (nginx's upstream keepalive).
keepalive = 5
max_requests = 2000
max_requests_jitter = 200

forwarded_allow_ips = os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1")

# Tokens, keys and contact details never reach a log line (portal/logs.py); the portal's
# PORTAL_LOG_FORMAT decides text or JSON for the error log and the access log alike.
logger_class = "portal.logs.GunicornLogger"
accesslog = "-"
errorlog = "-"
loglevel = "info"
# The request id is the one the portal answered with: the proxy's X-Request-ID, or its own.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'

# gunicorn 25+ opens a control socket at one fixed path per user; two servers on one
# machine would fight over it.
control_socket_disable = True
