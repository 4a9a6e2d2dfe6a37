"""Database models (SQLAlchemy 2 typed ORM).

Times of readings are stored as integer seconds since the Unix epoch, UTC, interval start
(``ts``); the same representation works unchanged on SQLite and PostgreSQL and keeps the bulk
ingest path free of per-row timestamp conversion.  Event times (``created_at``) are
timezone-aware datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Return a stored instant with its zone, UTC (SQLite hands it back without a zone)."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every Lingtan table."""


class Park(Base):
    """An industrial park run by one management committee."""

    __tablename__ = "park"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    province: Mapped[str] = mapped_column(String(16))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    altitude_m: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    grid_bus: Mapped[str | None] = mapped_column(String(100))
    enterprises: Mapped[list[Enterprise]] = relationship(back_populates="park")


class Enterprise(Base):
    """An enterprise in a park, identified by its unified social credit code."""

    __tablename__ = "enterprise"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    industry_code: Mapped[str] = mapped_column(String(8))
    key_emitter: Mapped[bool] = mapped_column(Boolean, default=False)
    park: Mapped[Park] = relationship(back_populates="enterprises")
    __table_args__ = (UniqueConstraint("park_id", "code"),)


class Site(Base):
    """A physical site (plant, building) of an enterprise."""

    __tablename__ = "site"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    __table_args__ = (UniqueConstraint("enterprise_id", "code"),)


class Meter(Base):
    """A meter: what it measures (carrier, role, unit) and how it reports (interval, register).

    ``cumulative`` meters report a register read at interval end.  ``register_max`` (only on a
    cumulative meter, in the meter's unit, > 0, NULL when unknown) is the register's rollover
    value, its modulus: the register counts 0 … register_max − 1 and then shows 0 again (100000
    for a five-digit register showing 99999 → 0).  A step back from ``prev`` to ``cur`` is then
    ``register_max − prev + cur``; a reading outside 0 … register_max − 1 is rejected.
    """

    __tablename__ = "meter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    carrier: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    interval_s: Mapped[int] = mapped_column(Integer, default=900)
    cumulative: Mapped[bool] = mapped_column(Boolean, default=False)
    register_max: Mapped[float | None] = mapped_column(Float)
    __table_args__ = (UniqueConstraint("park_id", "code"),)


class ImportBatch(Base):
    """One ingest: a file, an API post or a gateway message batch, with its summary."""

    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # the caller's user name (``cli`` for the command line, which has no account): who, by name
    username: Mapped[str | None] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(300))
    file_format: Mapped[str] = mapped_column(String(16))
    stamps: Mapped[str] = mapped_column(String(8), default="start")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    revised: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="done")


class RegisterReading(Base):
    """A cumulative register value as read at an instant (the end of an interval)."""

    __tablename__ = "register_reading"
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(Integer)


class ImportShare(Base):
    """An enterprise's part of an import batch: what became of its meters' rows.

    A file of the park's operator may carry several enterprises' meters; each enterprise's
    history lists the batch with its own counts (rows of its meters, its rejected rows).
    Identical rows repeated within one file are counted in the batch's total only.
    """

    __tablename__ = "import_share"
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise.id"), primary_key=True, index=True
    )
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    revised: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)


class ReadingHourly(Base):
    """A meter's hour: its interval values (slots) and their roll-up, keyed by (meter, hour start).

    The ledger of interval values (see :mod:`lingtan.store.readings`): ``slot_values`` (float64),
    ``slot_quality`` (int8, −1 = no value) and ``slot_batches`` (int32, the batch that wrote each
    value) are little-endian arrays of the hour's intervals; ``value``, ``present`` and
    ``expected`` are the roll-up every report reads.  Clustered on its key (``WITHOUT ROWID`` on
    SQLite) and without a foreign key to ``meter`` (meters are never deleted; the ingest service
    only writes meters it has looked up), which keeps the bulk path close to a plain load.
    Every changed value leaves a ``reading_revision`` row, written by the same merge.
    """

    __tablename__ = "reading_hourly"
    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    present: Mapped[int] = mapped_column(Integer)
    expected: Mapped[int] = mapped_column(Integer)
    slot_values: Mapped[bytes | None] = mapped_column(LargeBinary)
    slot_quality: Mapped[bytes | None] = mapped_column(LargeBinary)
    slot_batches: Mapped[bytes | None] = mapped_column(LargeBinary)
    __table_args__ = {"sqlite_with_rowid": False}


class ReadingRevision(Base):
    """A changed value: the old and the new one, which batch and who changed it."""

    __tablename__ = "reading_revision"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"))
    ts: Mapped[int] = mapped_column(BigInteger)
    old_value: Mapped[float] = mapped_column(Float)
    new_value: Mapped[float] = mapped_column(Float)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_revision_meter_ts", "meter_id", "ts"),)


class QuarantinedRow(Base):
    """A rejected input row, kept with the row, field and reason."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id"), index=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    source: Mapped[str] = mapped_column(String(300))
    row: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)


class User(Base):
    """A person who logs in; role and scope decide what they can see."""

    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("park.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """A device or integration key that may write readings for its meters only."""

    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(128))
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKeyMeter(Base):
    """A meter an API key may write."""

    __tablename__ = "api_key_meter"
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"), primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)
