"""covering indexes for the store page: its comment count (partial, commented responses),
its problem categories (partial, responses with a category) and its receipt funnel by day
part (receipts by store, local day and hour, with answered_at), each read from the index
alone instead of looking up every response or receipt of the period.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 19:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COMMENTED = sa.text("comment IS NOT NULL")
CATEGORISED = sa.text("problem_category IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_responses_store_id_local_day_commented",
        "responses",
        ["store_id", "local_day", "channel"],
        sqlite_where=COMMENTED,
        postgresql_where=COMMENTED,
    )
    op.create_index(
        "ix_responses_store_id_local_day_category",
        "responses",
        ["store_id", "local_day", "channel", "problem_category"],
        sqlite_where=CATEGORISED,
        postgresql_where=CATEGORISED,
    )
    op.create_index(
        "ix_receipts_store_id_local_day_hour",
        "receipts",
        ["store_id", "local_day", "local_hour", "answered_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_receipts_store_id_local_day_hour", table_name="receipts")
    op.drop_index("ix_responses_store_id_local_day_category", table_name="responses")
    op.drop_index("ix_responses_store_id_local_day_commented", table_name="responses")
