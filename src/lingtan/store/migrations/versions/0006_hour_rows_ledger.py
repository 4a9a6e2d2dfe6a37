"""hour rows ledger

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 04:30:00

Interval values move from one ``reading`` row per interval into their hour's row of
``reading_hourly`` (slots: values, quality, batch; see ``lingtan.store.readings``), beside the
roll-up.  Stored readings are packed into the slots of their hours and ``reading`` (with its
revision trigger: revisions are now written by the merge itself) is dropped.  The roll-up sums
stay as stored, so closed inventories recompute to the same figures.
"""

import importlib.util
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from alembic import op

from lingtan.store.readings import LONG_SCHEMA, hour_params, pack, unpack

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SLOT_COLUMNS = ("slot_values", "slot_quality", "slot_batches")


def upgrade() -> None:
    with op.batch_alter_table("reading_hourly", schema=None) as batch_op:
        for name in SLOT_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    # Slots into every hour that has readings; an hour whose roll-up row is missing gets one
    # (its sums from the readings), so no reading is left behind when ``reading`` goes.
    fill = sa.text(
        "INSERT INTO reading_hourly (meter_id, hour, value, present, expected, slot_values, "
        "slot_quality, slot_batches) VALUES (:m, :h, :s, :n, :e, :v, :q, :b) "
        "ON CONFLICT (meter_id, hour) DO UPDATE SET slot_values = excluded.slot_values, "
        "slot_quality = excluded.slot_quality, slot_batches = excluded.slot_batches"
    )
    meters = conn.execute(sa.text("SELECT id, interval_s FROM meter ORDER BY id")).all()
    for meter_id, interval_s in meters:
        rows = conn.execute(
            sa.text(
                "SELECT meter_id, ts, value, quality, batch_id FROM reading "
                "WHERE meter_id = :m ORDER BY ts"
            ),
            {"m": meter_id},
        ).all()
        if not rows:
            continue
        frame = pl.DataFrame([tuple(r) for r in rows], schema=LONG_SCHEMA, orient="row")
        for block in pack(frame, {meter_id: interval_s}):
            conn.execute(fill, [dict(zip("mhsnevqb", r, strict=True)) for r in hour_params(block)])
    if conn.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS reading_revision_on_update ON reading")
        op.execute("DROP FUNCTION IF EXISTS reading_revision_on_update()")
    else:
        op.execute("DROP TRIGGER IF EXISTS reading_revision_on_update")
    op.drop_table("reading")


def _foundation():  # type: ignore[no-untyped-def]
    """The foundation migration's module (it holds the revision trigger of ``reading``)."""
    path = next(Path(__file__).parent.glob("0001_*.py"))
    spec = importlib.util.spec_from_file_location("lingtan_migration_0001", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    op.create_table(
        "reading",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("meter_id", "ts"),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    meters = conn.execute(sa.text("SELECT id FROM meter ORDER BY id")).scalars().all()
    for meter_id in meters:
        rows = conn.execute(
            sa.text(
                "SELECT meter_id, hour, slot_values, slot_quality, slot_batches "
                "FROM reading_hourly WHERE meter_id = :m ORDER BY hour"
            ),
            {"m": meter_id},
        ).all()
        frame = unpack(rows)
        if frame.height:
            conn.execute(
                sa.text(
                    "INSERT INTO reading (meter_id, ts, value, quality, batch_id) "
                    "VALUES (:meter_id, :ts, :value, :quality, :batch_id)"
                ),
                frame.to_dicts(),
            )
    _foundation()._create_revision_trigger()
    with op.batch_alter_table("reading_hourly", schema=None) as batch_op:
        for name in SLOT_COLUMNS:
            batch_op.drop_column(name)
