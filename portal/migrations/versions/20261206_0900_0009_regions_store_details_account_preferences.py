"""regions as their own list; store address, format and closing; a user's language and
region scope; when and from where a POS key was last used

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("name", name=op.f("uq_regions_name")),
    )
    # Every region a store already names becomes an entry of the list.
    op.execute(
        "INSERT INTO regions (name, created_at) "
        "SELECT DISTINCT region, CURRENT_TIMESTAMP FROM stores WHERE region <> ''"
    )
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("address", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("format", sa.String(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("region", sa.String(length=100), nullable=True))
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_used_ip", sa.String(length=45), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("last_used_ip")
        batch_op.drop_column("last_used_at")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("region")
        batch_op.drop_column("locale")
    with op.batch_alter_table("stores", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
        batch_op.drop_column("format")
        batch_op.drop_column("address")
    op.drop_table("regions")
