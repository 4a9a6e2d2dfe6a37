"""import batch username

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 02:20:00

Who imported a batch, by name: the user name of the caller (``cli`` for the command line,
which has no user account), so that every revision names who made it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.drop_column("username")
