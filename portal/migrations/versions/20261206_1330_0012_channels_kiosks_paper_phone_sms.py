"""channels: every response records how it came in (receipt QR, typed code, kiosk, paper,
phone) and every rollup counts per channel; counter tablets (kiosks), paper card entries
and their second keying, telephone return visits, text messages and opt-outs; the
ranking policy's channels.

Existing answers came through the receipt (QR or typed code, which were not told apart):
they become channel ``receipt``, as do their rollup rows, whose primary keys gain the
channel. Kiosk and phone answers need no receipt, so ``responses.receipt_id`` may be
empty for those two channels only.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 13:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

import portal.db

#: The rollup tables and their primary key before this revision (the channel is added).
ROLLUP_KEYS = {
    "daily_rollups": ["store_id", "staff_key", "day"],
    "store_daily_rollups": ["store_id", "day"],
    "store_monthly_rollups": ["store_id", "month"],
    "question_daily_counts": ["survey_id", "question_key", "store_id", "day", "value"],
}


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_opt_outs",
        sa.Column("to_number", sa.String(length=20), nullable=False),
        sa.Column("opted_out_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("word", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("to_number", name=op.f("pk_sms_opt_outs")),
    )
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enrol_code_hash", sa.String(length=64), nullable=True),
        sa.Column("enrol_expires_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("credential_hash", sa.String(length=64), nullable=True),
        sa.Column("enrolled_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_kiosks_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_kiosks_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosks")),
        sa.UniqueConstraint("credential_hash", name=op.f("uq_kiosks_credential_hash")),
        sa.UniqueConstraint("enrol_code_hash", name=op.f("uq_kiosks_enrol_code_hash")),
    )
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosks_store_id"), ["store_id"], unique=False)

    op.create_table(
        "paper_entries",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("entered_by_user_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("check_state", sa.String(length=16), nullable=True),
        sa.Column("checked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("differences", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["checked_by_user_id"],
            ["users.id"],
            name=op.f("fk_paper_entries_checked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_user_id"],
            ["users.id"],
            name=op.f("fk_paper_entries_entered_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_paper_entries_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_paper_entries")),
    )
    with op.batch_alter_table("paper_entries", schema=None) as batch_op:
        batch_op.create_index("ix_paper_entries_check_state", ["check_state"], unique=False)

    op.create_table(
        "phone_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("about_response_id", sa.Integer(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("problem_solved", sa.Boolean(), nullable=True),
        sa.Column("called_by_user_id", sa.Integer(), nullable=True),
        sa.Column("called_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["about_response_id"],
            ["responses.id"],
            name=op.f("fk_phone_visits_about_response_id_responses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["called_by_user_id"],
            ["users.id"],
            name=op.f("fk_phone_visits_called_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_phone_visits_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_phone_visits_response_id_responses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_phone_visits_store_id_stores"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_visits")),
        sa.UniqueConstraint("response_id", name=op.f("uq_phone_visits_response_id")),
    )
    with op.batch_alter_table("phone_visits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phone_visits_about_response_id"), ["about_response_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_phone_visits_case_id"), ["case_id"], unique=False)

    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_number", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=True),
        sa.Column("provider_message_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_sms_messages_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_messages_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sms_messages_provider_message_id"), ["provider_message_id"], unique=False
        )
        batch_op.create_index(
            "ix_sms_messages_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_sms_messages_to_number_created_at", ["to_number", "created_at"], unique=False
        )

    with op.batch_alter_table("ranking_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "channels", sa.String(length=64), server_default="receipt,code", nullable=False
            )
        )

    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=8), server_default="receipt", nullable=False)
        )
        batch_op.add_column(sa.Column("kiosk_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("client_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("entered_by_user_id", sa.Integer(), nullable=True))
        batch_op.alter_column("receipt_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_responses_kiosk_id_client_id"), ["kiosk_id", "client_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_responses_entered_by_user_id_users"),
            "users",
            ["entered_by_user_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_responses_kiosk_id_kiosks"),
            "kiosks",
            ["kiosk_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            op.f("ck_responses_receipt_or_channel"),
            "receipt_id IS NOT NULL OR channel IN ('kiosk', 'phone')",
        )

    for table, key in ROLLUP_KEYS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("channel", sa.String(length=8), server_default="receipt", nullable=False)
            )
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", [*key[:-1], *_channel_before(table, key)])


def _channel_before(table: str, key: list[str]) -> list[str]:
    # The channel goes last, except before a question count's value.
    if table == "question_daily_counts":
        return ["channel", key[-1]]
    return [key[-1], "channel"]


def downgrade() -> None:
    # Answers without a receipt (kiosk, phone) cannot exist below this revision. The
    # rollups are derived data that cannot be split back from their channels: they are
    # emptied, and init-db counts the answers that stay into them again.
    receiptless = "SELECT id FROM responses WHERE receipt_id IS NULL"
    for table in ("response_origins", "response_flags", "response_answers", "response_contacts"):
        op.execute(f"DELETE FROM {table} WHERE response_id IN ({receiptless})")
    op.execute(f"UPDATE cases SET response_id = NULL WHERE response_id IN ({receiptless})")
    op.execute("DELETE FROM responses WHERE receipt_id IS NULL")
    for table, key in ROLLUP_KEYS.items():
        op.execute(f"DELETE FROM {table}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", key)
            batch_op.drop_column("channel")

    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_responses_receipt_or_channel"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_responses_kiosk_id_kiosks"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_responses_entered_by_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_responses_kiosk_id_client_id"), type_="unique")
        batch_op.alter_column("receipt_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("entered_by_user_id")
        batch_op.drop_column("client_id")
        batch_op.drop_column("kiosk_id")
        batch_op.drop_column("channel")

    with op.batch_alter_table("ranking_policies", schema=None) as batch_op:
        batch_op.drop_column("channels")

    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sms_messages_to_number_created_at")
        batch_op.drop_index("ix_sms_messages_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_sms_messages_provider_message_id"))
        batch_op.drop_index(batch_op.f("ix_sms_messages_case_id"))

    op.drop_table("sms_messages")
    with op.batch_alter_table("phone_visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_visits_case_id"))
        batch_op.drop_index(batch_op.f("ix_phone_visits_about_response_id"))

    op.drop_table("phone_visits")
    with op.batch_alter_table("paper_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_entries_check_state")

    op.drop_table("paper_entries")
    with op.batch_alter_table("kiosks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosks_store_id"))

    op.drop_table("kiosks")
    op.drop_table("sms_opt_outs")
