"""The work of the scheduled jobs (`portal.jobs.schedules`): each calls the operations its
cron command calls, in the same transactions, so the command and the job stay one rule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.admin.retention import compact_database, purge_expired
from portal.alerts.evaluate import evaluate_alerts
from portal.audit import CLI
from portal.awards.operations import finalise_due, open_cycle
from portal.calendar import last_complete_month
from portal.cases.notify import deliver_message, list_unsent_mail, notify_overdue, smtp_send
from portal.db import utcnow
from portal.jobs.context import JobContext
from portal.jobs.operations import purge_finished_jobs, recover_lost_jobs
from portal.jobs.registry import job_kind
from portal.models import AwardCycle
from portal.review.operations import generate_monthly_reviews, mail_reviews
from portal.themes.classify import count_to_reclassify, reclassify_batch

#: Comments classified per transaction, as ``reclassify-comments`` does by default.
RECLASSIFY_BATCH = 500
#: A running job whose heartbeat (renewed every 30 s) is older than this lost its worker.
LOST_AFTER = timedelta(minutes=10)


@job_kind("send-mail", _l("Sending the outbox's mail"))
def send_mail(context: JobContext, _params: Mapping[str, Any]) -> None:
    """Send the unsent outbox messages over SMTP, one transaction per message (as
    ``send-mail``): a failed message stays in the outbox for the next run."""
    settings = context.settings
    if settings.smtp_url is None:
        return
    with context.reading() as session:
        pending = list_unsent_mail(session)
    context.report(0, len(pending))
    for done, message_id in enumerate(pending, start=1):
        with context.transaction() as session:
            deliver_message(session, settings, message_id, now=utcnow(), send=smtp_send)
        context.report(done)


@job_kind("overdue", _l("Reminders of overdue cases"))
def remind_overdue(context: JobContext, params: Mapping[str, Any]) -> None:
    """Tell the assignee of each case past its first-response deadline, once; then send
    the mail (as ``overdue``)."""
    with context.transaction() as session:
        notify_overdue(session, context.settings, now=utcnow())
    send_mail(context, params)


@job_kind("check-alerts", _l("Checking the alert rules"))
def check_alerts(context: JobContext, _params: Mapping[str, Any]) -> None:
    with context.transaction() as session:
        evaluate_alerts(session, context.settings, now=utcnow())


@job_kind("monthly-review", _l("Monthly service reviews"))
def monthly_review(context: JobContext, _params: Mapping[str, Any]) -> None:
    """Write last month's missing reviews, then queue their mail (two transactions, as
    ``monthly-review``: a written review is kept if queueing the mail fails)."""
    now = utcnow()
    with context.transaction() as session:
        month = last_complete_month(session, now)
        generate_monthly_reviews(session, context.settings, month=month, now=now)
    with context.transaction() as session:
        mail_reviews(session, context.settings, now=now)


@job_kind("award-cycle", _l("Monthly service-star cycle"))
def award_cycle(context: JobContext, _params: Mapping[str, Any]) -> None:
    """Finalise the award months whose notice is over, then open last month's cycle if it
    is not open yet (as ``award-cycle`` without ``--month``)."""
    now = utcnow()
    with context.transaction() as session:
        finalise_due(session, now, actor=CLI)
    with context.transaction() as session:
        month = last_complete_month(session, now)
        if session.scalar(select(AwardCycle.id).where(AwardCycle.month == month)) is None:
            open_cycle(session, month, actor=CLI, now=now)


@job_kind("purge", _l("Retention purge"))
def purge(context: JobContext, _params: Mapping[str, Any]) -> None:
    """Delete what is past its retention (as ``purge``), and finished jobs past theirs."""
    settings, now = context.settings, utcnow()
    with context.transaction() as session:
        purge_expired(
            session,
            CLI,
            contact_days=settings.contact_retention_days,
            comment_days=settings.comment_retention_days,
            now=now,
        )
        purge_finished_jobs(session, now=now, days=settings.job_retention_days)
    compact_database(context.app.extensions["portal.db"][0])


@job_kind("reclassify-comments", _l("Classifying comments again"))
def reclassify_comments(context: JobContext, _params: Mapping[str, Any]) -> None:
    """Classify the comments of an older taxonomy version, a batch per transaction (as
    ``reclassify-comments``); nothing to do unless the taxonomy changed."""
    with context.reading() as session:
        total = count_to_reclassify(session)
    context.report(0, total)
    done, after_id = 0, 0
    while total:
        with context.transaction() as session:
            step = reclassify_batch(session, after_id=after_id, size=RECLASSIFY_BATCH)
        if not step.count:
            break
        done, after_id = done + step.count, step.last_id
        context.report(done)


@job_kind("recover-jobs", _l("Recovering jobs whose worker stopped"))
def recover_jobs(context: JobContext, _params: Mapping[str, Any]) -> None:
    """Queue again the jobs whose worker was killed mid-job (their heartbeat stopped), or
    show them failed once their attempts are used up."""
    with context.transaction() as session:
        recover_lost_jobs(session, now=utcnow(), lease=LOST_AFTER)
