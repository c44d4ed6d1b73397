"""Every GET page of the portal and the URL arguments to open it with, from the seeded
world (`world.World`), for one sign-in (`world.Who`; None for public pages).

A new page is walked as soon as it is registered: the test fails for a GET endpoint that
is in neither `PAGES` nor `NOT_PAGES`. To cover a new page, add a line to `PAGES`
returning the URL values (path arguments and query arguments alike) of each variant to
open, e.g. ``"admin.store_edit": lambda w, who: [{"code": who.store_codes[0]}]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.portal.survey_editor.published import SEASONAL_KEY
from tests.portal.translated.world import DRAFT_SURVEY, Who, World
from tests.portal.translated.world_custom import COMPARED

Variants = list[dict[str, Any]]
ONE: Variants = [{}]


def _store(world: World, who: Who | None) -> Variants:
    return [{"code": code} for code in (who.store_codes[:1] if who else [])]


def _visits(world: World, who: Who | None) -> Variants:
    return [{"visit_id": v} for v in (who.visit_ids if who else [])]


def _months(world: World, who: Who | None) -> Variants:
    return [{"month": m} for m in (who.award_months if who else [])]


def _admin(
    pages: Callable[[World, Who | None], Variants],
) -> Callable[[World, Who | None], Variants]:
    """Pages that change the chain: for admins alone (a region manager reads the rest)."""
    return lambda world, who: pages(world, who) if who and who.login == "admin" else []


def _login(who: Who | None) -> str:
    return who.login if who else ""


def _staff(world: World, who: Who | None) -> Variants:
    return [{"staff_id": s} for s in (who.staff_ids[:1] if who else [])]


def _phone_case(world: World, who: Who | None) -> list[int]:
    """A case with a consented phone number of the sign-in's first store (with return calls
    recorded in the demo manager's store)."""
    codes = who.store_codes[:1] if who else []
    return [world.phone_cases[c] for c in codes if c in world.phone_cases]


def _console(
    pages: Callable[[World, Who | None], Variants],
) -> Callable[[World, Who | None], Variants]:
    """Admin console pages: for admins and for managers with a region (not the others)."""
    return lambda world, who: (
        pages(world, who) if who and (who.region or who.login == "admin") else []
    )


#: endpoint -> the URL values of each variant to open for a sign-in.
PAGES: dict[str, Callable[[World, Who | None], Variants]] = {
    # public
    "auth.login": lambda w, who: ONE,
    "home.index": lambda w, who: ONE,
    "shopper.code_entry": lambda w, who: ONE,
    "shopper.survey": lambda w, who: [{"token": t} for t in w.receipt_tokens],
    "shopper.receipt_preview": lambda w, who: [{"token": w.receipt_tokens[0]}],
    "cases.follow_up": lambda w, who: [{"token": t} for t in w.follow_up_tokens],
    # everyone signed in
    "home.dashboard": lambda w, who: ONE,
    "auth.account_settings": lambda w, who: ONE,
    "tokens.index": lambda w, who: ONE,
    # admin console
    "admin.index": _console(lambda w, who: ONE),
    "admin.audit": _console(lambda w, who: [{}, {"page": 2}]),
    "admin.keys": _console(lambda w, who: ONE),
    "admin.store_keys": _console(_store),
    "admin.stores": _console(lambda w, who: [{}, {"q": "店"}]),
    "admin.regions": _console(lambda w, who: ONE),
    "admin.store_staff": _console(_store),
    "admin.store_new": _admin(lambda w, who: ONE),
    "admin.store_edit": _admin(_store),
    "admin.store_close": _admin(_store),
    "admin.store_reopen": _admin(_store),
    "admin.staff_edit": _admin(_staff),
    "admin.staff_import": _admin(lambda w, who: ONE),
    "admin.users": _admin(lambda w, who: [{}, {"role": "manager"}]),
    "admin.invite": _admin(lambda w, who: ONE),
    "admin.user": _admin(lambda w, who: [{"user_id": who.user_id}] if who else []),
    "auth.forgot_password": lambda w, who: ONE,
    "auth.invitation": lambda w, who: [] if who else [{"token": w.invitation_token}],
    "auth.reset_password": lambda w, who: [] if who else [{"token": w.reset_token}],
    "admin.revoke_key": lambda w, who: [{"key_id": k} for k in (who.key_ids[:1] if who else [])],
    "auth.failed_login_list": lambda w, who: ONE,
    "cases.outbox": lambda w, who: ONE,
    "sms.messages": lambda w, who: [{}, {"page": 2}],
    # cases and codes
    "cases.index": lambda w, who: [{}, {"state": "closed"}],
    # One case per state, and a case with return calls of the sign-in's first store.
    "cases.detail": lambda w, who: [
        {"case_id": c} for c in (who.case_ids if who else []) + _phone_case(w, who)
    ],
    "cases.new": lambda w, who: ONE,
    "codes.check": lambda w, who: ONE,
    # telephone return visits
    "phone.index": lambda w, who: ONE,
    "phone.store": _store,
    "phone.call_answer": lambda w, who: [
        {"response_id": w.phone_answers[c]}
        for c in (who.store_codes[:1] if who else [])
        if c in w.phone_answers
    ],
    "phone.call_case": lambda w, who: [{"case_id": c} for c in _phone_case(w, who)],
    # dashboards and exports
    "dashboard.chain": lambda w, who: [{}, {"only": "checkout_ease:5"}],
    "dashboard.store": lambda w, who: (
        [
            {**v, **only}
            for v in _store(w, who)
            for only in ({}, {"only": "self_checkout:yes"}, {"only": "departments:other"})
        ]
        + [{**v, "theme": "queue", "days": 90} for v in _store(w, who)]
    ),
    "dashboard.compare_versions": lambda w, who: [{}, COMPARED],
    # comment themes: the sign-in's stores, one store, a theme's comments across stores
    "themes.index": lambda w, who: [
        {"month": w.theme_month},
        *({"month": w.theme_month, "store": v["code"]} for v in _store(w, who)),
    ],
    "themes.comments": lambda w, who: [{"month": w.theme_month, "theme": "queue"}],
    "exports.index": lambda w, who: ONE,
    "surveys.index": lambda w, who: ONE,
    "ballot.queue": lambda w, who: [{"rule": r} for r in ("burst", "fast", "pattern")],
    # HR and awards
    "hr.rankings": lambda w, who: [{}, {"scope": "chain"}],
    "hr.coaching": lambda w, who: ONE,
    "training.trainings": lambda w, who: ONE,
    "training.topics": lambda w, who: ONE,
    "training.assign": _staff,
    "hr.method": lambda w, who: ONE,
    "hr.policy": lambda w, who: ONE,
    # Both ends of the list for HR (a ranked person and a newcomer), the first for others:
    # the page is slow to compute.
    "hr.staff": lambda w, who: [
        {"staff_id": s}
        for s in (who.staff_ids if who and who.login == "hr" else who.staff_ids[:1] if who else [])
    ],
    "awards.index": lambda w, who: ONE,
    "awards.cycle": _months,
    "awards.store": lambda w, who: [
        {"month": m["month"], **c} for m in _months(w, who) for c in _store(w, who)
    ],
    "awards.certificate": lambda w, who: [
        {"month": m, "nomination_id": n}
        for m, n, code in w.certificates
        if who and code in who.store_codes
    ][:1],
    # monthly service reviews: the archive, a store's review and a region's
    "review.archive": lambda w, who: ONE,
    "review.detail": lambda w, who: [{"review_id": r} for r in (who.review_ids if who else [])],
    # mystery shopping
    "mystery.index": lambda w, who: ONE,
    "mystery.schedule": lambda w, who: ONE,
    "mystery.chain": lambda w, who: ONE,
    "mystery.store": _store,
    "mystery.visit": _visits,
    "mystery.print_report": _visits,
    "mystery.report": lambda w, who: [{"visit_id": v, "step": s} for v, s in w.report_pages],
    # charts: their axis labels and legends are text too
    "dashboard.chain_trend": lambda w, who: [{"metric": "nps"}],
    "dashboard.store_trend": lambda w, who: [{"metric": "nps", **v} for v in _store(w, who)],
    "dashboard.store_categories": _store,
    "dashboard.store_drivers": _store,
    "hr.staff_trend": lambda w, who: [{"staff_id": s} for s in (who.staff_ids[:1] if who else [])],
    "mystery.chain_heatmap": lambda w, who: ONE,
    "mystery.store_trend": _store,
    # survey owners
    "surveys.versions": lambda w, who: [{"key": k} for k in ("receipt", SEASONAL_KEY)],
    "surveys.version": lambda w, who: [
        {"key": "receipt", "number": 1},
        {"key": SEASONAL_KEY, "number": 1},
        {"key": SEASONAL_KEY, "number": 2},
    ],
    "surveys.branding": lambda w, who: ONE,
    # surveys the business writes (cx and admins)
    "surveys.new": lambda w, who: ONE,
    # The default survey has no draft (the "start a draft" page), the other one has.
    "surveys.draft": lambda w, who: [{"key": "receipt"}, {"key": DRAFT_SURVEY}],
    "surveys.texts": lambda w, who: [{"key": DRAFT_SURVEY}],
    # A scoring question, a conditional custom one, and a new question.
    "surveys.question": lambda w, who: [
        {"key": DRAFT_SURVEY, "question": "nps"},
        {"key": DRAFT_SURVEY, "question": "payment"},
        {"key": DRAFT_SURVEY},
    ],
    # surveys: the list, and targeting
    "surveys.targeting": lambda w, who: ONE,
    "surveys.targeting_new": lambda w, who: ONE,
    "surveys.targeting_edit": lambda w, who: [{"rule_id": r} for r in w.target_rule_ids],
    "surveys.targeting_delete": lambda w, who: [{"rule_id": w.target_rule_ids[0]}],
    "surveys.targeting_coverage": lambda w, who: [{}, {"on": "2026-12-31"}],
    # survey owners: the preview of the default survey (no draft: its version 1), and its
    # frame in the page's own language
    "surveys.preview": lambda w, who: [
        {"key": "receipt"},
        {"key": "receipt", "format": "convenience"},
    ],
    "surveys.preview_frame": lambda w, who: [{"key": "receipt"}],
    # counter tablets: the console, and the tablet's own pages (the anonymous client is the
    # world's enrolled tablet)
    "kiosks.index": _console(lambda w, who: ONE),
    "kiosks.device": _console(
        lambda w, who: [{"kiosk_id": k} for k, code in w.kiosks if who and code in who.store_codes]
    ),
    "kiosk.enrol": lambda w, who: ONE,
    "kiosk.index": lambda w, who: ONE,
    # paper cards: printing, keying in, the check queue, a second keying, a decision
    "paper.print_form": lambda w, who: ONE,
    "paper.entry": lambda w, who: ONE,
    "paper.card": lambda w, who: [{"code": w.paper.codes[c["code"]]} for c in _store(w, who)],
    "paper.checks": lambda w, who: ONE,
    "paper.check": lambda w, who: [
        {"response_id": w.paper.pending[c["code"]]} for c in _store(w, who)
    ],
    "paper.decision": lambda w, who: [
        {"response_id": w.paper.mismatched[c["code"]]} for c in _store(w, who)
    ],
    "targets.index": lambda w, who: ONE,
    "targets.scorecard": lambda w, who: [{}, *({"store": c["code"]} for c in _store(w, who))],
    # alerts: the list, the rules and one rule (admin and CX)
    "alerts.index": lambda w, who: ONE,
    "alerts.rules": lambda w, who: ONE,
    "alerts.edit_rule": lambda w, who: [{"rule_id": r} for r in w.alert_rule_ids],
    "jobs.index": lambda w, who: ONE,
    "jobs.detail": lambda w, who: [
        {"job_id": j} for j in w.job_ids.get(who.login if who else "", [])
    ],
}

#: GET endpoints that are not pages to read, each with the reason.
NOT_PAGES = {
    "review.pdf": "a PDF: its Chinese text is read back by tests/portal/review/test_review_pages",
    "static": "stylesheets, scripts and images of the site itself",
    "shopper.qr": "a QR code image: no words",
    "sms.short_link": "a redirect to the follow-up question (cases.follow_up, walked)",
    "mystery.photo": "the shopper's receipt photo as uploaded",
    "metrics_api.summary": "JSON for integrations: keys are an API, not page text",
    "exports.responses": "a file download: its header row is checked by test_exports",
    "exports.summary": "a file download: its header row is checked by test_exports",
    "awards.export": "a file download: its header row is checked by test_exports",
    "admin.audit_csv": "a file download: its header row is checked by test_exports",
    "admin.staff_import_template": "a CSV file whose headers are the import's column names",
    "surveys.branding_colour_css": "a stylesheet of one colour for the branding preview",
    "shopper.survey_style": "a stylesheet generated from a survey version's conditions",
    "shopper.brand_style": "a stylesheet setting the chain's colour",
    "shopper.logo": "the chain's logo image",
    "surveys.preview_style": "a stylesheet generated from the previewed survey's conditions",
    "kiosk.service_worker": "the counter tablet's service worker script",
    "jobs.download": "a job's result file: the export's is compared with the direct one "
    "by tests/portal/jobs/test_export_job",
}
