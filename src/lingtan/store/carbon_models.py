"""Carbon accounting tables: production, measured parameters, certificates, factors, snapshots.

A certificate retires once, ever: ``certificate_retirement.certificate_code`` is UNIQUE, so a
second retirement is impossible at the database level whatever the application does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lingtan.store.models import Base, utcnow


class ProductionRecord(Base):
    """Primary aluminium production of an enterprise for a month (or a year: ``month`` null)."""

    __tablename__ = "production_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    aluminium_t: Mapped[float] = mapped_column(Float)
    anode_net_consumption_t: Mapped[float] = mapped_column(Float)
    anode_sulfur_fraction: Mapped[float | None] = mapped_column(Float)
    anode_ash_fraction: Mapped[float | None] = mapped_column(Float)
    cf4_kg_per_t_al: Mapped[float | None] = mapped_column(Float)
    c2f6_kg_per_t_al: Mapped[float | None] = mapped_column(Float)
    reference: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MeasuredFuelParameter(Base):
    """Measured NCV / carbon content / oxidation rate of a fuel (or steam enthalpy [GJ/t]).

    ``month`` null means the whole year.  A monthly row takes precedence over the yearly one.
    """

    __tablename__ = "measured_fuel_parameter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    fuel: Mapped[str] = mapped_column(String(32))
    activity_unit: Mapped[str | None] = mapped_column(String(16))
    ncv_gj_per_unit: Mapped[float | None] = mapped_column(Float)
    carbon_content_tc_per_tj: Mapped[float | None] = mapped_column(Float)
    oxidation_rate: Mapped[float | None] = mapped_column(Float)
    reference: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GreenPowerContract(Base):
    """Green power trading (绿电交易) delivered to an enterprise in a month or year [MWh]."""

    __tablename__ = "green_power_contract"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    mwh: Mapped[float] = mapped_column(Float)
    contract_ref: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GreenCertificateRow(Base):
    """A green electricity certificate (1 MWh) held by an enterprise of a park."""

    __tablename__ = "green_certificate"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    vintage_year: Mapped[int] = mapped_column(Integer)
    vintage_month: Mapped[int] = mapped_column(Integer)
    plant_id: Mapped[str] = mapped_column(String(200))
    technology: Mapped[str] = mapped_column(String(32))
    tradable: Mapped[bool] = mapped_column(Boolean)
    batch: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CertificateEvent(Base):
    """What happened to a certificate: import, transfer or retire, by whom and when."""

    __tablename__ = "certificate_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_code: Mapped[str] = mapped_column(ForeignKey("green_certificate.code"))
    kind: Mapped[str] = mapped_column(String(16))
    from_enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    to_enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    period: Mapped[str] = mapped_column(String(16), default="")
    user: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (Index("ix_certificate_event_code", "certificate_code"),)


class CertificateRetirement(Base):
    """The one retirement of a certificate against an enterprise and a period."""

    __tablename__ = "certificate_retirement"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_code: Mapped[str] = mapped_column(ForeignKey("green_certificate.code"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (UniqueConstraint("certificate_code", name="uq_retirement_certificate"),)


class EmissionFactorRow(Base):
    """A user-added version of an electricity grid factor [tCO2/MWh]; shipped rows stay as is."""

    __tablename__ = "emission_factor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(32))
    region_name: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(48))
    data_year: Mapped[str] = mapped_column(String(16))
    factor_tco2_per_mwh: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text)
    confidence: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(16))
    user: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InventorySnapshot(Base):
    """A closed inventory: its result as computed, the factors it used and its content hash.

    ``entity_key`` is ``park`` or ``enterprise:<id>``; recomputing writes a new revision and marks
    the old one ``superseded`` (both kept).
    """

    __tablename__ = "inventory_snapshot"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    entity_key: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    gap_policy: Mapped[str] = mapped_column(String(8))
    content_hash: Mapped[str] = mapped_column(String(64))
    factors_json: Mapped[str] = mapped_column(Text)
    result_json: Mapped[str] = mapped_column(Text)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("inventory_snapshot.id"))
    user: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (UniqueConstraint("park_id", "entity_key", "year", "month", "revision"),)


class FuelFactorVersion(Base):
    """An admin-added version of a fuel's combustion defaults, in force from a year or month.

    All three parameters are stored (those not given when adding are copied from the version in
    force at ``valid_from``), so a row alone re-derives the figures that cite its ``version``.
    """

    __tablename__ = "fuel_factor_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fuel: Mapped[str] = mapped_column(String(32), index=True)
    valid_from_year: Mapped[int] = mapped_column(Integer)
    valid_from_month: Mapped[int | None] = mapped_column(Integer)
    activity_unit: Mapped[str] = mapped_column(String(16))
    ncv_gj_per_unit: Mapped[float] = mapped_column(Float)
    carbon_content_tc_per_tj: Mapped[float] = mapped_column(Float)
    oxidation_rate: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text)
    confidence: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(16))
    user: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HeatFactorVersion(Base):
    """An admin-added version of the purchased heat and steam factor [tCO2/GJ]."""

    __tablename__ = "heat_factor_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item: Mapped[str] = mapped_column(String(48))
    valid_from_year: Mapped[int] = mapped_column(Integer)
    valid_from_month: Mapped[int | None] = mapped_column(Integer)
    factor_tco2_per_gj: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(Text)
    confidence: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(16))
    user: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
