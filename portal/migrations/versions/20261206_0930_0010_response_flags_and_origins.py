"""response flags and origins: answers held out of rankings and awards as suspected ballot
stuffing, and where screened answers came from (keyed hashes, kept as
long as the rules look back)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "response_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_response_flags_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_user_id"],
            ["users.id"],
            name=op.f("fk_response_flags_reviewed_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_flags")),
        sa.UniqueConstraint("response_id", "rule", name=op.f("uq_response_flags_response_id_rule")),
    )
    with op.batch_alter_table("response_flags", schema=None) as batch_op:
        batch_op.create_index(
            "ix_response_flags_state_rule_flagged_at", ["state", "rule", "flagged_at"], unique=False
        )

    op.create_table(
        "response_origins",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_key", sa.String(length=32), nullable=False),
        sa.Column("network_key", sa.String(length=32), nullable=False),
        sa.Column("pattern_key", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_response_origins_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_response_origins_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_response_origins")),
    )
    with op.batch_alter_table("response_origins", schema=None) as batch_op:
        batch_op.create_index(
            "ix_response_origins_device_key_submitted_at",
            ["device_key", "submitted_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_response_origins_network_key_submitted_at",
            ["network_key", "submitted_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_response_origins_pattern_key_submitted_at",
            ["pattern_key", "submitted_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_response_origins_submitted_at"), ["submitted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("response_origins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_origins_submitted_at"))
        batch_op.drop_index("ix_response_origins_pattern_key_submitted_at")
        batch_op.drop_index("ix_response_origins_network_key_submitted_at")
        batch_op.drop_index("ix_response_origins_device_key_submitted_at")

    op.drop_table("response_origins")
    with op.batch_alter_table("response_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_response_flags_state_rule_flagged_at")

    op.drop_table("response_flags")
