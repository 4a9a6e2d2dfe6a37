"""Load a park description and its readings (such as the demo park) through the normal paths.

Nothing here is specific to the demo: the park's master data goes through the same create
functions as the API, and its readings through :func:`lingtan.services.ingest.import_frame`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lingtan.demo.park import DemoPark
from lingtan.demo.production import demo_production
from lingtan.domain import UserRole
from lingtan.engines.accounting import Period
from lingtan.ingest.files import LONG_SCHEMA
from lingtan.services.accounts import NewUser, create_user
from lingtan.services.carbon_inputs import ProductionIn, add_production
from lingtan.services.ingest import ImportSummary, Progress, import_frame, no_progress
from lingtan.services.parks import (
    EnterpriseSpec,
    MeterSpec,
    ParkSpec,
    create_enterprise,
    create_meter,
    create_park,
    create_site,
)
from lingtan.services.principal import Principal
from lingtan.store.models import Park

LOADER = Principal(role=UserRole.ADMIN, username="loader")


def database_is_empty(session: Session) -> bool:
    """Whether no park exists yet."""
    return session.scalar(select(func.count()).select_from(Park)) == 0


def _long_frame(readings: pl.DataFrame) -> pl.DataFrame:
    return readings.select(
        pl.int_range(1, readings.height + 1, dtype=pl.Int64).alias("row"),
        pl.col("meter_code").alias("meter"),
        pl.col("ts").dt.epoch("s").alias("ts"),
        pl.lit(None, pl.String).alias("ts_raw"),
        pl.col("value"),
        pl.lit(None, pl.String).alias("value_raw"),
        pl.lit(None, pl.String).alias("unit"),
    ).cast(LONG_SCHEMA)


def load_park(
    session: Session, demo: DemoPark, progress: Progress = no_progress
) -> tuple[Park, ImportSummary]:
    """Create the park, its enterprises, sites and meters, import its readings and production."""
    park = create_park(
        session,
        ParkSpec(
            code=demo.code,
            name=demo.name,
            name_en=demo.name_en,
            province=demo.province,
            latitude=demo.latitude,
            longitude=demo.longitude,
            altitude_m=demo.altitude_m,
            timezone=demo.timezone,
            grid_bus=demo.grid_bus,
        ),
    )
    ents = {}
    for e in demo.enterprises:
        ents[e.code] = create_enterprise(
            session,
            park,
            EnterpriseSpec(e.code, e.name, e.uscc, e.industry_code, e.name_en, e.key_emitter),
        )
    for s in demo.sites:
        create_site(session, ents[s.enterprise_code], s.code, s.name)
    # parents first, so that a child can name its parent
    for m in sorted(demo.meters, key=lambda m: m.parent_code is not None):
        create_meter(
            session,
            park,
            MeterSpec(
                code=m.code,
                enterprise_code=m.enterprise_code,
                carrier=m.carrier.value,
                role=m.role.value,
                unit=m.unit,
                name=m.name,
                site_code=m.site_code,
                interval_min=m.interval_min,
                cumulative=m.cumulative,
                parent_code=m.parent_code,
            ),
        )
    summary = import_frame(
        session,
        LOADER,
        park,
        _long_frame(demo.readings),
        f"{demo.code} readings",
        "frame",
        progress=progress,
    )
    for rec in demo_production(demo):
        add_production(
            session,
            LOADER,
            park,
            rec.enterprise_code,
            Period(rec.year, rec.month),
            ProductionIn(rec.aluminium_t, rec.anode_net_consumption_t, rec.reference),
        )
    return park, summary


@dataclass(frozen=True)
class DemoAccount:
    """A demo account and its role."""

    username: str
    role: UserRole
    enterprise_code: str | None


def demo_accounts(demo: DemoPark) -> list[DemoAccount]:
    """One account per role for the park: admin, manager, verifier, one enterprise user each."""
    accounts = [
        DemoAccount("admin", UserRole.ADMIN, None),
        DemoAccount("manager", UserRole.PARK_MANAGER, None),
        DemoAccount("verifier", UserRole.VERIFIER, None),
    ]
    accounts += [
        DemoAccount(f"ent_{e.code}", UserRole.ENTERPRISE_USER, e.code) for e in demo.enterprises
    ]
    return accounts


def create_demo_accounts(session: Session, demo: DemoPark) -> tuple[list[DemoAccount], str]:
    """Create the demo accounts with one generated password; return them and the password."""
    password = secrets.token_urlsafe(12)
    accounts = demo_accounts(demo)
    for a in accounts:
        park = None if a.role == UserRole.ADMIN else demo.code
        create_user(session, NewUser(a.username, password, a.role, park, a.enterprise_code))
    return accounts, password
