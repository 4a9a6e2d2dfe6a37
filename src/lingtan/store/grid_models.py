"""Tables of background jobs and of grid tracing: grid models and their hourly results.

A grid model is a pandapower network (``pandapower.to_json``) with its hourly source and load
profiles (Parquet bytes) and a bus-to-zone mapping; tracing it writes the hourly traced
intensity and green share at the park's bus (``grid_trace_hourly``) and per zone
(``grid_zone_hourly``).  Per-bus results of other buses are not stored: the dashboard recomputes
the hours it shows from the stored network and profiles.  Hours are epoch seconds, UTC,
interval start, like the readings.
"""

from __future__ import annotations

from datetime import datetime

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
)
from sqlalchemy.orm import Mapped, mapped_column

from lingtan.store.models import Base, utcnow


class Job(Base):
    """A unit of long work (a year of tracing, ...) claimed and run by a worker."""

    __tablename__ = "job"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_job_status_id", "status", "id"),)


class GridModel(Base):
    """A traced network of a park: topology, source attributes, profiles and zones."""

    __tablename__ = "grid_model"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    network_json: Mapped[str] = mapped_column(Text)
    zones_json: Mapped[str] = mapped_column(Text, default="{}")
    coords_json: Mapped[str] = mapped_column(Text, default="{}")
    park_bus: Mapped[int] = mapped_column(Integer)
    park_bus_name: Mapped[str] = mapped_column(String(100))
    source_profiles: Mapped[bytes] = mapped_column(LargeBinary)
    load_profiles: Mapped[bytes] = mapped_column(LargeBinary)
    start_s: Mapped[int] = mapped_column(BigInteger)
    end_s: Mapped[int] = mapped_column(BigInteger)
    traced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GridTraceHourly(Base):
    """Traced intensity and green share of the power arriving at one bus in one hour."""

    __tablename__ = "grid_trace_hourly"
    grid_model_id: Mapped[int] = mapped_column(
        ForeignKey("grid_model.id", ondelete="CASCADE"), primary_key=True
    )
    bus: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    intensity_kg_per_mwh: Mapped[float | None] = mapped_column(Float)
    green_share: Mapped[float | None] = mapped_column(Float)
    throughflow_mw: Mapped[float] = mapped_column(Float)


class GridZoneHourly(Base):
    """Traced mix of a zone's (prefecture's) consumption in one hour."""

    __tablename__ = "grid_zone_hourly"
    grid_model_id: Mapped[int] = mapped_column(
        ForeignKey("grid_model.id", ondelete="CASCADE"), primary_key=True
    )
    zone: Mapped[str] = mapped_column(String(100), primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumption_mw: Mapped[float] = mapped_column(Float)
    generation_mw: Mapped[float] = mapped_column(Float)
    net_import_mw: Mapped[float] = mapped_column(Float)
    intensity_kg_per_mwh: Mapped[float | None] = mapped_column(Float)
    green_share: Mapped[float | None] = mapped_column(Float)
    unknown_share: Mapped[float | None] = mapped_column(Float)
    shares_json: Mapped[str] = mapped_column(Text, default="{}")
    self_supplied: Mapped[bool] = mapped_column(Boolean)
    fully_green: Mapped[bool] = mapped_column(Boolean)
