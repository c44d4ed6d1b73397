"""Transport-level defences wired into the app: response headers, cookies, hosts, proxies.

One place decides which headers every response carries (CSP, HSTS, framing), which pages
must never be cached because they show customers' contact details, photos or exports, which
``Host`` names are served in production, and how many reverse proxies' ``X-Forwarded-*``
headers are believed.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from portal.config import Settings

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: The policy of the one kind of page the portal frames itself: the survey owner's preview
#: shows the survey at phone width in both languages, side by side, as frames.
FRAMED_BY_SELF_POLICY = CONTENT_SECURITY_POLICY.replace(
    "frame-ancestors 'none'", "frame-ancestors 'self'"
)
#: Two years, the preload list's minimum; only sent when the portal is served over HTTPS.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"
#: ``__Host-`` makes the browser refuse the cookie unless it is Secure, Path=/ and without a
#: Domain, so no sibling subdomain can plant or overwrite the session.
SECURE_SESSION_COOKIE = "__Host-session"

#: Blueprints whose every page shows contact details or exports: cases (with the outbox and
#: the customer's follow-up pages) and exports.
NO_STORE_BLUEPRINTS = frozenset({"cases", "exports"})
#: Single pages elsewhere that show photos, reports or exported data, and the shopper's own
#: survey (it echoes the phone number typed in; the QR image stays cacheable).
NO_STORE_ENDPOINTS = frozenset(
    {
        "shopper.survey",
        "shopper.submit",
        "awards.export",
        "mystery.photo",
        "mystery.visit",
        "mystery.report",
        "mystery.print_report",
        "codes.check",
        "codes.redeem",
        # A new POS key is shown once, from the POST; the audit log and its export name
        # users and what they did.
        "admin.create_key",
        "admin.audit",
        "admin.audit_csv",
    }
)


def init_app(app: Flask, settings: Settings) -> None:
    """Configure cookies, trusted hosts and proxies, and register the header rules."""
    _configure_cookies(app, settings)
    if settings.production:
        # Werkzeug refuses a Host header naming another site before routing, so nothing
        # built from it (external links, redirects) can point elsewhere.
        app.config["TRUSTED_HOSTS"] = list(settings.served_hosts)
        app.register_error_handler(SecurityError, _untrusted_host)
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n
        )

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Survey URLs carry the receipt token: never leak it in a Referer header.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if settings.secure_transport:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        cache = response.headers.get("Cache-Control", "")
        if is_private_page(request.blueprint, request.endpoint) and "no-store" not in cache:
            response.headers["Cache-Control"] = "no-store"
        return response


def allow_framing_by_self(response: Response) -> Response:
    """Let pages of the portal itself (and no other site) show ``response`` in a frame;
    every other response keeps ``DENY`` and ``frame-ancestors 'none'``."""
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = FRAMED_BY_SELF_POLICY
    return response


def _untrusted_host(error: SecurityError) -> Response:
    # Plain text: the HTML error page builds links, and there is no URL adapter for a
    # request whose host was refused.
    return Response("Bad Request: unknown host.\n", status=400, mimetype="text/plain")


def is_private_page(blueprint: str | None, endpoint: str | None) -> bool:
    """Pages no browser or proxy may keep a copy of (contact details, photos, exports)."""
    return blueprint in NO_STORE_BLUEPRINTS or endpoint in NO_STORE_ENDPOINTS


def _configure_cookies(app: Flask, settings: Settings) -> None:
    secure = settings.secure_transport
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        # Lax, not Strict: a shopper arriving from a QR scan is a cross-site navigation.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=False,
        # ``__Host-`` needs Secure, so development over plain http keeps the plain name.
        SESSION_COOKIE_NAME=SECURE_SESSION_COOKIE if secure else "session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        # Flask-WTF's HTTPS-only Referer check would refuse every form: pages send
        # "Referrer-Policy: no-referrer" (survey URLs carry the receipt token). The CSRF
        # token lives in the __Host- session cookie, which no other site can set or read.
        WTF_CSRF_SSL_STRICT=False,
    )
