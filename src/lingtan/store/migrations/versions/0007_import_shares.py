"""import shares

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 05:20:00

Each enterprise's part of an import batch (``import_share``), so that an operator's file with
several enterprises' meters appears in each enterprise's history with its own counts.  Batches
of one enterprise get their share from the batch's counts; earlier batches of several
enterprises have no per-enterprise counts and stay in the park's history only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COUNTS = ("accepted", "unchanged", "revised", "rejected", "flagged")


def upgrade() -> None:
    op.create_table(
        "import_share",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in COUNTS),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"]),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"]),
        sa.PrimaryKeyConstraint("batch_id", "enterprise_id"),
    )
    with op.batch_alter_table("import_share", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_share_enterprise_id"), ["enterprise_id"], unique=False
        )
    counts = ", ".join(COUNTS)
    op.execute(
        f"INSERT INTO import_share (batch_id, enterprise_id, {counts}) "
        f"SELECT id, enterprise_id, {counts} FROM import_batch WHERE enterprise_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("import_share", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_share_enterprise_id"))
    op.drop_table("import_share")
