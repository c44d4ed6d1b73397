"""the monthly service review: targets per metric and scope (seeded with the chain's
defaults: complaint rate below 0.5 % of transactions, satisfaction at least 90 %), the
themes and sentiment of comments, the archived monthly reviews, alert rules with the alerts
they raised and who got them, and trainings.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 17:00:00.000000
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

#: The seeded chain targets hold for every month the portal has figures for.
SEED_FROM = date(2000, 1, 1)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "region_id IS NULL OR store_id IS NULL", name=op.f("ck_alert_rules_one_scope")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_alert_rules_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_alert_rules_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_alert_rules_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
    )
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_rules_store_id"), ["store_id"], unique=False)

    op.create_table(
        "monthly_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("scope_key", sa.String(length=40), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("generated_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mailed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(region_id IS NULL) <> (store_id IS NULL)",
            name=op.f("ck_monthly_reviews_store_or_region"),
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_monthly_reviews_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_monthly_reviews_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_reviews")),
        sa.UniqueConstraint("scope_key", "month", name=op.f("uq_monthly_reviews_scope_key_month")),
    )
    with op.batch_alter_table("monthly_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monthly_reviews_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_monthly_reviews_store_id"), ["store_id"], unique=False)

    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=24), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("scope_key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "region_id IS NULL OR store_id IS NULL", name=op.f("ck_targets_one_scope")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_targets_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_targets_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_targets_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        sa.UniqueConstraint(
            "metric",
            "scope_key",
            "effective_from",
            name=op.f("uq_targets_metric_scope_key_effective_from"),
        ),
    )
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_targets_store_id"), ["store_id"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("signal", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("limit_value", sa.Float(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alerts_rule_id_alert_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_alerts_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "rule_id",
            "store_id",
            "period_start",
            "signal",
            name=op.f("uq_alerts_rule_id_store_id_period_start_signal"),
        ),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_store_id"), ["store_id"], unique=False)

    op.create_table(
        "trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("touchpoint", sa.String(length=16), server_default="", nullable=False),
        sa.Column("trained_on", sa.Date(), nullable=False),
        sa.Column("trainer", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("assigned_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("assigned_by_user_id", sa.Integer(), nullable=True),
        sa.Column("done_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by_user_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_user_id"],
            ["users.id"],
            name=op.f("fk_trainings_assigned_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["done_by_user_id"],
            ["users.id"],
            name=op.f("fk_trainings_done_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_trainings_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trainings")),
    )
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trainings_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "alert_recipients",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mailed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dismissed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_recipients_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_alert_recipients_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "user_id", name=op.f("pk_alert_recipients")),
    )
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_recipients_user_id"), ["user_id"], unique=False)

    op.create_table(
        "comment_classifications",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("sentiment", sa.String(length=8), nullable=False),
        sa.Column("taxonomy_version", sa.SmallInteger(), nullable=False),
        sa.Column("classified_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_comment_classifications_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_comment_classifications")),
    )
    op.create_table(
        "comment_themes",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=32), nullable=False),
        sa.Column("sentiment", sa.String(length=8), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("answered_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_comment_themes_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_comment_themes_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "theme", name=op.f("pk_comment_themes")),
    )
    with op.batch_alter_table("comment_themes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comment_themes_store_answered", ["store_id", "answered_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_comment_themes_theme"), ["theme"], unique=False)

    targets = sa.table(
        "targets",
        sa.column("metric", sa.String),
        sa.column("scope_key", sa.String),
        sa.column("value", sa.Float),
        sa.column("effective_from", sa.Date),
        sa.column("created_at", portal.db.UTCDateTime(timezone=True)),
    )
    seeded = portal.db.utcnow()
    op.bulk_insert(
        targets,
        [
            {
                "metric": "complaint_rate",
                "scope_key": "chain",
                "value": 0.5,
                "effective_from": SEED_FROM,
                "created_at": seeded,
            },
            {
                "metric": "csat",
                "scope_key": "chain",
                "value": 90.0,
                "effective_from": SEED_FROM,
                "created_at": seeded,
            },
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("comment_themes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_themes_theme"))
        batch_op.drop_index("ix_comment_themes_store_answered")

    op.drop_table("comment_themes")
    op.drop_table("comment_classifications")
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_recipients_user_id"))

    op.drop_table("alert_recipients")
    with op.batch_alter_table("trainings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trainings_staff_id"))

    op.drop_table("trainings")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_store_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_created_at"))

    op.drop_table("alerts")
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_targets_store_id"))

    op.drop_table("targets")
    with op.batch_alter_table("monthly_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monthly_reviews_store_id"))
        batch_op.drop_index(batch_op.f("ix_monthly_reviews_month"))

    op.drop_table("monthly_reviews")
    with op.batch_alter_table("alert_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rules_store_id"))

    op.drop_table("alert_rules")
