"""the staff monthly rollup (per store, staff member, month and channel: what the monthly
ranking reads), filled from the staff-day rollup, and the stored rankings of closed months
with their per-person rows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

#: The counted columns of every rollup grain (`portal.models.rollups.RollupCounts`).
COUNTS = (
    "issued",
    "issued_answered",
    "responses",
    "problems",
    *(f"nps_{score}" for score in range(11)),
    *(f"csat_{score}" for score in range(1, 6)),
    *(
        f"{key}_{part}"
        for key in ("friendliness", "speed", "availability", "cleanliness", "knowledge")
        for part in ("n", "sum", "sumsq")
    ),
)


def upgrade() -> None:
    op.create_table(
        "staff_monthly_rollups",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("staff_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=8), server_default="receipt", nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("changes", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_staff_monthly_rollups_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "store_id", "staff_key", "month", "channel", name=op.f("pk_staff_monthly_rollups")
        ),
    )
    op.create_index("ix_staff_monthly_rollups_month", "staff_monthly_rollups", ["month", "changes"])
    # The months so far, summed from the staff-day rows (what rebuild-rollups does).
    if op.get_bind().dialect.name == "postgresql":
        month = "CAST(date_trunc('month', day) AS DATE)"
    else:
        month = "date(day, 'start of month')"
    sums = ", ".join(f"SUM({name})" for name in COUNTS)
    op.execute(
        f"INSERT INTO staff_monthly_rollups (store_id, staff_key, month, channel, "
        f"{', '.join(COUNTS)}) SELECT store_id, staff_key, {month}, channel, {sums} "
        f"FROM daily_rollups GROUP BY store_id, staff_key, {month}, channel"
    )
    op.create_table(
        "stored_rankings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("gated", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("computed_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_rankings")),
        sa.UniqueConstraint(
            "month", "scope", "gated", name=op.f("uq_stored_rankings_month_scope_gated")
        ),
    )
    op.create_table(
        "stored_ranking_rows",
        sa.Column("ranking_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("award_group", sa.String(length=120), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("composite", sa.Float(), nullable=True),
        sa.Column("q10", sa.Float(), nullable=True),
        sa.Column("q90", sa.Float(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("greyed", sa.Boolean(), nullable=False),
        sa.Column("group_ranked", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ranking_id"],
            ["stored_rankings.id"],
            name=op.f("fk_stored_ranking_rows_ranking_id_stored_rankings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ranking_id", "staff_id", name=op.f("pk_stored_ranking_rows")),
    )
    op.create_index("ix_stored_ranking_rows_staff_id", "stored_ranking_rows", ["staff_id"])


def downgrade() -> None:
    op.drop_index("ix_stored_ranking_rows_staff_id", table_name="stored_ranking_rows")
    op.drop_table("stored_ranking_rows")
    op.drop_table("stored_rankings")
    op.drop_index("ix_staff_monthly_rollups_month", table_name="staff_monthly_rollups")
    op.drop_table("staff_monthly_rollups")
