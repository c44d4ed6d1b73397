"""The receipt feedback portal: a Flask application over plain SQLAlchemy.

`create_app` is the only place that wires things together; it reads like a table of
contents of the application.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask, g, request, session, url_for
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from portal import (
    cli,
    db,
    display_names,
    errors,
    formatting,
    health,
    logs,
    metrics_api,
    plain_words,
    pos_api,
    security,
    throttle,
)
from portal.admin import audit_views as admin_audit_views
from portal.admin import home_views as admin_home_views
from portal.admin import key_views as admin_key_views
from portal.admin import staff_views as admin_staff_views
from portal.admin import user_views as admin_user_views
from portal.admin import views as admin_views
from portal.admin.staff_import import MAX_IMPORT_BYTES
from portal.alerts import views as alerts_views
from portal.api_tokens import views as tokens_views
from portal.auth import SESSION_VERSION_KEY
from portal.auth import recovery_views as auth_recovery_views
from portal.auth import views as auth_views
from portal.awards import views as awards_views
from portal.ballot import views as ballot_views
from portal.cases import views as cases_views
from portal.cases.forms import case_reasons
from portal.channels import channel_label
from portal.config import DEFAULT_INSTANCE_PATH, Settings
from portal.dashboard import views as dashboard_views
from portal.exports import views as exports_views
from portal.extensions import babel, csrf, login_manager
from portal.forms import refuse_invalid_utf8
from portal.home import views as home_views
from portal.hr import views as hr_views
from portal.hr import words as hr_words
from portal.i18n import current_locale, select_locale
from portal.jobs import queue as job_queue
from portal.jobs import views as jobs_views
from portal.kiosk import console_views as kiosk_console_views
from portal.kiosk import views as kiosk_views
from portal.metrics_api import views as metrics_api_views
from portal.models import User
from portal.mystery import draft_views as mystery_draft_views
from portal.mystery import report_views as mystery_report_views
from portal.mystery import views as mystery_views
from portal.mystery import visit_views as mystery_visit_views
from portal.mystery.photos import upload_body_limit
from portal.paper import views as paper_views
from portal.phone import views as phone_views
from portal.phone.forms import PHONE_OUTCOME_LABELS
from portal.pos_api import views as pos_api_views
from portal.review import views as review_views
from portal.shopper import views as shopper_views
from portal.sms import forms as sms_words
from portal.sms import views as sms_views
from portal.sms import webhooks as sms_webhooks
from portal.survey_editor import branding_views as survey_branding_views
from portal.survey_editor import editor_views as survey_editor_draft_views
from portal.survey_editor import preview_views as survey_preview_views
from portal.survey_editor import targeting_views as survey_targeting_views
from portal.survey_editor import version_views as survey_version_views
from portal.survey_editor import views as survey_editor_views
from portal.targets import views as targets_views
from portal.themes import views as themes_views
from portal.themes.classify import warm_up as warm_up_classifier
from portal.training import views as training_views
from portal.validation_codes import views as codes_views
from surveys.codes import format_validation_code
from surveys.privacy import mask_personal_data

ROOT = Path(__file__).resolve().parent.parent

#: The modules that attach routes to their area's blueprint, in registration order. An
#: area's blueprint (``bp`` in its package) is registered once, however many view modules
#: share it.
VIEW_MODULES = (
    home_views,
    auth_views,
    auth_recovery_views,
    shopper_views,
    codes_views,
    dashboard_views,
    cases_views,
    phone_views,
    sms_views,
    sms_webhooks,
    mystery_views,
    mystery_visit_views,
    mystery_draft_views,
    mystery_report_views,
    hr_views,
    training_views,
    awards_views,
    ballot_views,
    paper_views,
    exports_views,
    tokens_views,
    admin_home_views,
    admin_key_views,
    admin_audit_views,
    admin_user_views,
    admin_views,
    admin_staff_views,
    survey_editor_views,
    survey_version_views,
    survey_branding_views,
    survey_editor_draft_views,
    survey_targeting_views,
    survey_preview_views,
    kiosk_views,
    kiosk_console_views,
    pos_api_views,
    metrics_api_views,
    targets_views,
    review_views,
    themes_views,
    alerts_views,
    jobs_views,
)


def create_app(
    settings: Settings | None = None, *, bind: Engine | Connection | None = None
) -> Flask:
    """Build the application. Tests pass ``settings`` and a ``bind``; the real app reads
    ``PORTAL_*`` variables (and a ``.env`` file) once, here."""
    # Before anything can log: tokens, keys and contact details never reach a log.
    logs.install()
    if settings is None:
        load_dotenv(override=False)
        settings = Settings.from_env()
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=settings.instance_path or str(DEFAULT_INSTANCE_PATH),
        template_folder=str(ROOT / "templates"),
    )
    _configure(app, settings)
    if bind is None:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        url = settings.database_url or f"sqlite:///{Path(app.instance_path) / 'portal.sqlite3'}"
        # A server's connection can drop (a restart, a failover); a file's cannot, and a
        # ping before each of a submit's three transactions is a statement each.
        bind = db.make_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    db.init_app(app, bind)
    # First of the request hooks: every log line of a request carries its id.
    logs.init_app(app, trust_header=settings.trusted_proxies > 0)
    if not settings.testing:
        logs.configure(settings.log_format)
    throttle.init_app(app, settings.ratelimit_storage_url, settings.ratelimit_enabled, bind)
    _register_extensions(app, settings)
    _register_blueprints(app)
    errors.init_app(app)
    _register_template_helpers(app)
    security.init_app(app, settings)
    job_queue.init_app(app, settings)
    cli.init_app(app)
    if not settings.testing:
        _warm_up_on_first_request(app)
    # Outermost: probes are answered before sessions, hosts, locales and proxies.
    app.wsgi_app = health.HealthChecks(app.wsgi_app, bind)  # type: ignore[method-assign]
    return app


def _warm_up_on_first_request(app: Flask) -> None:
    """A serving process loads the comment classifier beside its first request rather than
    inside the first submit with a comment; CLI commands, which serve none, never load it."""
    started = threading.Event()

    @app.before_request
    def _warm_up() -> None:
        if not started.is_set():
            started.set()
            threading.Thread(target=warm_up_classifier, name="themes-warm-up", daemon=True).start()


def _configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        PORTAL_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        # A shopper may leave the survey open for a while; the form keeps the answers anyway.
        WTF_CSRF_TIME_LIMIT=4 * 3600,
        MAX_CONTENT_LENGTH=1024 * 1024,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
    )


def _register_extensions(app: Flask, settings: Settings) -> None:
    _register_body_limits(app, settings)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str) -> Any:
        if not user_id.isdigit():
            return None
        user = db.get_session().get(User, int(user_id))
        if user is None or not user.active:
            return None
        # A cookie issued before the last sign-out, password change or "sign out
        # everywhere" carries an older version: every copy of it is void.
        if session.get(SESSION_VERSION_KEY) != user.session_version:
            return None
        return user


def _register_body_limits(app: Flask, settings: Settings) -> None:
    # Registered before CSRF, whose check reads the form: the photo upload may carry a photo
    # of the size settings allow, derived from that one setting; every other request keeps
    # MAX_CONTENT_LENGTH.
    photo_body = upload_body_limit(settings.photo_max_bytes)
    # The staff import may carry a file of MAX_IMPORT_BYTES, refused above that with a
    # message; the margin is for the multipart framing and the form's other fields.
    import_body = MAX_IMPORT_BYTES + 64 * 1024
    # The branding page may carry a logo of its advertised size (refused with a message
    # on the logo field above it).
    branding_body = survey_branding_views.BRANDING_BODY_LIMIT

    @app.before_request
    def _body_limit() -> None:
        if request.endpoint == mystery_draft_views.PHOTO_UPLOAD_ENDPOINT:
            request.max_content_length = photo_body
        elif request.endpoint == admin_staff_views.IMPORT_ENDPOINT:
            request.max_content_length = import_body
        elif request.endpoint == survey_branding_views.BRANDING_ENDPOINT:
            request.max_content_length = branding_body

    # After the limit (it reads a form body), before CSRF and every view.
    app.before_request(refuse_invalid_utf8)


def _register_blueprints(app: Flask) -> None:
    # Tills and BI tools authenticate with bearer keys, not cookies: CSRF does not apply.
    csrf.exempt(pos_api.bp)
    csrf.exempt(metrics_api.bp)
    for views in VIEW_MODULES:
        if views.bp.name not in app.blueprints:
            app.register_blueprint(views.bp)


def _register_template_helpers(app: Flask) -> None:
    def lang_url(lang: str) -> str:
        # A plain link to the same page in another language: no JavaScript needed.
        if g.get("rendering_error"):
            # Error pages must not echo a rejected token back, even inside a link.
            return f"?lang={lang}"
        args = dict(request.view_args or {})
        args.update({k: v for k, v in request.args.items() if k != "lang"})
        return url_for(request.endpoint or "home.index", lang=lang, **args)

    app.jinja_env.globals.update(
        current_locale=current_locale,
        lang_url=lang_url,
        actor_name=display_names.actor_name,
        problem_label=lambda key: formatting.problem_label(key, current_locale()),
        command=formatting.command,
        channel_label=channel_label,
        # How a phone return visit went, for the case timeline (`portal.phone`).
        phone_outcome_labels=PHONE_OUTCOME_LABELS,
    )
    app.jinja_env.globals.update(plain_words.template_globals())
    app.jinja_env.globals.update(hr_words.template_globals())
    app.jinja_env.globals.update(sms_words.template_globals())
    app.jinja_env.globals.update(themes_views.template_globals())
    app.jinja_env.globals.update(jobs_views.template_globals())
    app.jinja_env.filters.update(
        localtime=formatting.localtime,
        bdi=formatting.bdi,
        percent=formatting.percent,
        number=formatting.number,
        format_validation_code=format_validation_code,
        mask_personal=mask_personal_data,
        excerpt=formatting.excerpt,
        actor_name=display_names.actor_name,
        case_reasons=case_reasons,
    )
