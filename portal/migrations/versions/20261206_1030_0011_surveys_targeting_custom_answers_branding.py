"""surveys the business writes: surveys with drafts and numbered versions, targeting
rules, the version each receipt asks, custom answers and their daily counts, branding.

The existing receipt survey becomes version 1 of the default survey ``receipt`` (its later
hashes, if any, versions 2, 3 ... in publishing order), and every receipt is given the
version it was answered with, or the one its survey page showed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:30:00.000000
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from surveys.loader import LIBRARY, load_definition

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "branding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_name_zh", sa.String(length=100), server_default="", nullable=False),
        sa.Column("chain_name_en", sa.String(length=100), server_default="", nullable=False),
        sa.Column("logo_png", sa.LargeBinary(), nullable=True),
        sa.Column("logo_sha256", sa.String(length=64), nullable=True),
        sa.Column("primary_colour", sa.String(length=7), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["users.id"],
            name=op.f("fk_branding_updated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branding")),
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=True),
        sa.Column("draft_revision", sa.Integer(), server_default="0", nullable=False),
        sa.Column("draft_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("draft_updated_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_updated_by_user_id"],
            ["users.id"],
            name=op.f("fk_surveys_draft_updated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("key", name=op.f("uq_surveys_key")),
    )
    op.create_table(
        "question_daily_counts",
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_question_daily_counts_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_question_daily_counts_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "survey_id",
            "question_key",
            "store_id",
            "day",
            "value",
            name=op.f("pk_question_daily_counts"),
        ),
    )
    with op.batch_alter_table("question_daily_counts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_question_daily_counts_store_id_day", ["store_id", "day"], unique=False
        )

    op.create_table(
        "target_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("store_format", sa.String(length=20), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("version_a_id", sa.Integer(), nullable=True),
        sa.Column("version_b_id", sa.Integer(), nullable=True),
        sa.Column("percent_b", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "ends_on IS NULL OR starts_on IS NULL OR starts_on <= ends_on",
            name=op.f("ck_target_rules_dates"),
        ),
        sa.CheckConstraint(
            "percent_b BETWEEN 0 AND 100", name=op.f("ck_target_rules_percent_b_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_target_rules_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_target_rules_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_target_rules_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_a_id"],
            ["survey_versions.id"],
            name=op.f("fk_target_rules_version_a_id_survey_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["version_b_id"],
            ["survey_versions.id"],
            name=op.f("fk_target_rules_version_b_id_survey_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_target_rules")),
    )
    op.create_table(
        "response_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("choice", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_response_answers_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_answers")),
    )
    with op.batch_alter_table("response_answers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_response_answers_question_choice", ["question_key", "choice"], unique=False
        )
        batch_op.create_index("ix_response_answers_response_id", ["response_id"], unique=False)

    with op.batch_alter_table("survey_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("survey_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("scoring_series", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(sa.Column("published_by_user_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_survey_versions_survey_id_number"), ["survey_id", "number"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_survey_versions_published_by_user_id_users"),
            "users",
            ["published_by_user_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_survey_versions_survey_id_surveys"),
            "surveys",
            ["survey_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("survey_version_id", sa.Integer(), nullable=True))

    _default_survey_from_existing_versions()
    with op.batch_alter_table("responses", schema=None) as batch_op:
        # The A/B comparison counts answers by version.
        batch_op.create_index("ix_responses_survey_version_id", ["survey_version_id"])

    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.alter_column("survey_version_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_receipts_survey_version_id_survey_versions"),
            "survey_versions",
            ["survey_version_id"],
            ["id"],
        )


def _default_survey_from_existing_versions() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    bind.execute(
        sa.text(
            "INSERT INTO surveys (key, draft_revision, created_at) VALUES ('receipt', 0, :now)"
        ),
        {"now": now},
    )
    survey_id = bind.execute(sa.text("SELECT id FROM surveys WHERE key = 'receipt'")).scalar_one()
    versions = (
        bind.execute(
            sa.text(
                "SELECT id FROM survey_versions WHERE survey_key = 'receipt' "
                "ORDER BY published_at, id"
            )
        )
        .scalars()
        .all()
    )
    if not versions:
        # No answer yet: version 1 is the built-in survey, as the survey page showed it.
        definition = load_definition(LIBRARY / "receipt.yaml")
        insert = sa.text(
            "INSERT INTO survey_versions (survey_key, content_hash, definition, "
            "published_at, scoring_series) VALUES ('receipt', :hash, :definition, :now, 1)"
        ).bindparams(sa.bindparam("definition", type_=sa.JSON()))
        document = json.loads(definition.content)
        bind.execute(insert, {"hash": definition.content_hash, "definition": document, "now": now})
        versions = (
            bind.execute(sa.text("SELECT id FROM survey_versions WHERE survey_key = 'receipt'"))
            .scalars()
            .all()
        )
    for number, version_id in enumerate(versions, start=1):
        bind.execute(
            sa.text("UPDATE survey_versions SET survey_id = :s, number = :n WHERE id = :id"),
            {"s": survey_id, "n": number, "id": version_id},
        )
    # Answered receipts: the version answered. The others: the latest, which their survey
    # page showed (the page always showed the current receipt.yaml).
    bind.execute(
        sa.text(
            "UPDATE receipts SET survey_version_id = (SELECT r.survey_version_id "
            "FROM responses r WHERE r.receipt_id = receipts.id)"
        )
    )
    bind.execute(
        sa.text("UPDATE receipts SET survey_version_id = :v WHERE survey_version_id IS NULL"),
        {"v": versions[-1]},
    )


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_survey_version_id")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_receipts_survey_version_id_survey_versions"), type_="foreignkey"
        )
        batch_op.drop_column("survey_version_id")
    with op.batch_alter_table("response_answers", schema=None) as batch_op:
        batch_op.drop_index("ix_response_answers_response_id")
        batch_op.drop_index("ix_response_answers_question_choice")
    op.drop_table("response_answers")
    op.drop_table("target_rules")
    # Versions nothing answered (version 1 made from receipt.yaml, unanswered edits) did
    # not exist before; versions with answers stay, as the answers' versions.
    op.execute(
        "DELETE FROM survey_versions WHERE survey_id IS NOT NULL AND id NOT IN "
        "(SELECT survey_version_id FROM responses)"
    )
    with op.batch_alter_table("survey_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_survey_versions_survey_id_surveys"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_survey_versions_published_by_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_survey_versions_survey_id_number"), type_="unique")
        batch_op.drop_column("published_by_user_id")
        batch_op.drop_column("scoring_series")
        batch_op.drop_column("number")
        batch_op.drop_column("survey_id")
    with op.batch_alter_table("question_daily_counts", schema=None) as batch_op:
        batch_op.drop_index("ix_question_daily_counts_store_id_day")
    op.drop_table("question_daily_counts")
    op.drop_table("surveys")
    op.drop_table("branding")
