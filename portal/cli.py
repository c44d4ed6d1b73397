"""Command-line interface: ``flask --app portal <command>`` (or the ``portal`` script).

The commands live in the ``commands.py`` of the area that owns their operation, named as
DESIGN.md section 4 names them; this module only lists them for `create_app` to register.
"""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup

from portal.admin.commands import (
    backup_command,
    create_staff_command,
    create_store_command,
    erase_customer_command,
    import_staff_command,
    init_db,
    purge_command,
    rebuild_rollups_command,
    restore_command,
)
from portal.alerts.commands import check_alerts_command
from portal.api_tokens.commands import create_api_token_command
from portal.auth.commands import create_user_command
from portal.awards.commands import award_cycle_command, verify_awards_command
from portal.cases.commands import overdue_command, send_mail_command
from portal.demo.commands import demo_command
from portal.exports.commands import export_command
from portal.hr.commands import rank_command
from portal.jobs.commands import worker_command
from portal.mystery.commands import finalise_visits_command
from portal.pos_api.commands import (
    create_api_key_command,
    issue_receipts_command,
    list_api_keys_command,
    revoke_api_key_command,
)
from portal.review.commands import monthly_review_command
from portal.sms.commands import send_sms_command
from portal.themes.commands import classify_comment_command, reclassify_comments_command
from portal.validation_codes.commands import check_code_command

COMMANDS = (
    init_db,
    create_store_command,
    create_staff_command,
    import_staff_command,
    create_user_command,
    create_api_key_command,
    create_api_token_command,
    list_api_keys_command,
    revoke_api_key_command,
    issue_receipts_command,
    check_code_command,
    demo_command,
    rebuild_rollups_command,
    overdue_command,
    send_mail_command,
    send_sms_command,
    finalise_visits_command,
    award_cycle_command,
    verify_awards_command,
    rank_command,
    purge_command,
    erase_customer_command,
    backup_command,
    restore_command,
    monthly_review_command,
    export_command,
    classify_comment_command,
    reclassify_comments_command,
    check_alerts_command,
    worker_command,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def main() -> None:
    """The ``portal`` console script: the same commands as ``flask --app portal``."""
    # Imported here: portal/__init__.py imports this module to register the commands.
    from portal import create_app

    FlaskGroup(create_app=lambda: create_app())()
