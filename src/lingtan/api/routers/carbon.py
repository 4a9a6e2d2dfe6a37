"""Carbon: inventories, scorecard, inputs, green certificates, factor versions, closed inventories."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from lingtan.api.deps import CurrentPrincipal, ParkDep, SessionDep
from lingtan.api.schemas import (
    GreenContractIn,
    GreenContractOut,
    InputPeriodIn,
    MeasuredParametersIn,
    MeasuredParametersOut,
    ProductionRecordIn,
    ProductionRecordOut,
)
from lingtan.engines.accounting import Period
from lingtan.engines.certificates import ClaimPolicy
from lingtan.services import (
    carbon_closing,
    carbon_factors,
    carbon_inputs,
    carbon_reports,
    certificates,
    scorecard,
)
from lingtan.services.carbon import check_gap_policy, monthly_overview

router = APIRouter(prefix="/api/v1/parks/{park_code}/carbon", tags=["carbon"])

Fmt = Literal["json", "xlsx", "pdf"]
Lang = Literal["zh", "en"]
Gwp = Literal["AR5", "AR6"]
GWP = Query(
    None, description="GWP-100 set for CF4/C2F6 (AR5 or AR6); default: the closed inventory's, "
    "else AR5"
)  # fmt: skip
LANG = Query("zh", description="language of the Excel and PDF reports: zh or en")
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _file(content: bytes, fmt: str, name: str) -> Response:
    return Response(
        content, media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )  # fmt: skip


@router.get("/inventory", response_model=None)
def inventory(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    year: int,
    month: int | None = Query(None, ge=1, le=12),
    enterprise: str | None = Query(None, description="enterprise code; omit for the park"),
    gap_policy: str = Query("error", pattern="^(error|scale)$"),
    format: Fmt = "json",
    lang: Lang = LANG,
    gwp: Gwp | None = GWP,
) -> dict[str, Any] | Response:
    """Scope 1 and 2 inventory (location- and market-based) with provenance; closed if closed."""
    inv = carbon_closing.inventory(
        session, p, park, Period(year, month), enterprise, check_gap_policy(gap_policy), gwp
    )
    if format == "json":
        return inv
    name = f"inventory-{inv['entity']}-{inv['period']['label']}"
    if format == "xlsx":
        return _file(carbon_reports.workbook(inv, None, lang), "xlsx", name)
    return _file(carbon_reports.pdf(inv, None, lang), "pdf", name)


@router.get("/monthly")
def monthly(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    year: int,
    gwp: Gwp = Query("AR5", description="GWP-100 set for CF4/C2F6: AR5 or AR6"),
) -> list[dict[str, Any]]:
    """Per visible enterprise and month: Scope 1, Scope 2 location and market (gaps scaled)."""
    return monthly_overview(session, p, park, year, "scale", gwp)


@router.get("/scorecard", response_model=None)
def park_scorecard(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    year: int,
    gap_policy: str = Query("error", pattern="^(error|scale)$"),
    format: Fmt = "json",
    lang: Lang = LANG,
    gwp: Gwp | None = GWP,
) -> dict[str, Any] | Response:
    """Zero-carbon park scorecard: core and guiding indicators, pass/fail and gaps."""
    policy = check_gap_policy(gap_policy)
    card = scorecard.park_scorecard(session, p, park, year, policy, gwp)
    if format == "json":
        return card
    inv = carbon_closing.inventory(session, p, park, Period(year), None, policy, gwp)
    name = f"scorecard-{park.code}-{year}"
    if format == "xlsx":
        return _file(carbon_reports.workbook(inv, card, lang), "xlsx", name)
    return _file(carbon_reports.pdf(inv, card, lang), "pdf", name)


# --- inputs: production, measured fuel parameters, green power contracts -----------------------
# Recorded by the enterprise's users, the park's manager or an admin; read by every person of the
# park within their scope (lingtan.services.carbon_inputs decides both).

INPUT_ENTERPRISE = Query(None, description="enterprise code; omit for every visible enterprise")
INPUT_YEAR = Query(None, description="calendar year; omit for every year")


def _period(body: InputPeriodIn) -> Period:
    return Period(body.year, body.month)


def _values(body: InputPeriodIn) -> dict[str, Any]:
    """Return the body's recorded values: everything but the enterprise and period."""
    return body.model_dump(exclude=set(InputPeriodIn.model_fields))


@router.post("/production", response_model=ProductionRecordOut, status_code=201)
def add_production(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, body: ProductionRecordIn
) -> ProductionRecordOut:
    """Record a smelter's aluminium production for a month or year.

    A newer record of the enterprise and period replaces the older ones, whole; they stay
    listed, ``superseded_by`` it (the answer's ``supersedes`` names them).
    """
    data = carbon_inputs.ProductionIn(**_values(body))
    rid = carbon_inputs.add_production(session, p, park, body.enterprise, _period(body), data)
    (out,) = carbon_inputs.list_production(session, p, park, record_id=rid)
    return ProductionRecordOut.model_validate(out)


@router.get("/production", response_model=list[ProductionRecordOut])
def list_production(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    enterprise: str | None = INPUT_ENTERPRISE,
    year: int | None = INPUT_YEAR,
) -> list[ProductionRecordOut]:
    """List the aluminium production records visible to the caller, superseded ones marked."""
    rows = carbon_inputs.list_production(session, p, park, enterprise, year)
    return [ProductionRecordOut.model_validate(r) for r in rows]


@router.post("/measured", response_model=MeasuredParametersOut, status_code=201)
def add_measured(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, body: MeasuredParametersIn
) -> MeasuredParametersOut:
    """Record measured parameters of a fuel (or a steam enthalpy) for a month or year.

    A newer record of the enterprise, fuel and period replaces the older ones, whole: parameters
    it leaves out are the defaults, not an older record's values.  The older ones stay listed,
    ``superseded_by`` it (the answer's ``supersedes`` names them).
    """
    data = carbon_inputs.MeasuredIn(**_values(body))
    rid = carbon_inputs.add_measured(session, p, park, body.enterprise, _period(body), data)
    (out,) = carbon_inputs.list_measured(session, p, park, record_id=rid)
    return MeasuredParametersOut.model_validate(out)


@router.get("/measured", response_model=list[MeasuredParametersOut])
def list_measured(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    enterprise: str | None = INPUT_ENTERPRISE,
    year: int | None = INPUT_YEAR,
) -> list[MeasuredParametersOut]:
    """List the measured fuel parameter records visible to the caller, superseded ones marked."""
    rows = carbon_inputs.list_measured(session, p, park, enterprise, year)
    return [MeasuredParametersOut.model_validate(r) for r in rows]


@router.post("/contracts", response_model=GreenContractOut, status_code=201)
def add_contract(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    body: GreenContractIn,
    response: Response,
) -> GreenContractOut:
    """Record green power delivered under a contract in a month or year (once per period).

    A second record of the reference for an overlapping period is refused (409); ``replace``
    updates the record of the same period instead (200).
    """
    rid = carbon_inputs.add_contract(session, p, park, body.enterprise, _period(body), body.mwh,
                                     body.contract_ref, body.replace)  # fmt: skip
    if body.replace:
        response.status_code = 200
    (out,) = carbon_inputs.list_contracts(session, p, park, record_id=rid)
    return GreenContractOut.model_validate(out)


@router.get("/contracts", response_model=list[GreenContractOut])
def list_contracts(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    enterprise: str | None = INPUT_ENTERPRISE,
    year: int | None = INPUT_YEAR,
) -> list[GreenContractOut]:
    """List the green power contract records visible to the caller."""
    rows = carbon_inputs.list_contracts(session, p, park, enterprise, year)
    return [GreenContractOut.model_validate(r) for r in rows]


class CloseIn(BaseModel):
    """Which inventory to close."""

    year: int
    month: int | None = Field(None, ge=1, le=12)
    enterprise: str | None = None
    gap_policy: Literal["error", "scale"] = "error"
    gwp: Gwp = Field("AR5", description="GWP-100 set for CF4/C2F6; the closed inventory keeps it")


@router.post("/inventory/close", status_code=201)
def close(park: ParkDep, session: SessionDep, p: CurrentPrincipal, body: CloseIn) -> dict[str, Any]:
    """Close an inventory: it is stored and no longer changes with newer factors."""
    return carbon_closing.close_inventory(
        session, p, park, Period(body.year, body.month), body.enterprise, body.gap_policy, body.gwp
    )


@router.get("/snapshots")
def snapshots(park: ParkDep, session: SessionDep, p: CurrentPrincipal) -> list[dict[str, Any]]:
    """List the closed and superseded inventories of the park."""
    return carbon_closing.snapshots(session, p, park)


Confidence = Literal["checked", "secondary", "unverified"]
VALID_FROM = r"^\d{4}(-\d{1,2})?$"


class FactorIn(BaseModel):
    """A new version of a grid factor [tCO2/MWh]."""

    region_code: str
    kind: str
    data_year: str
    factor_tco2_per_mwh: float = Field(ge=0)
    source: str = Field(min_length=1)
    confidence: Confidence = "checked"
    region_name: str = ""


class FuelFactorIn(BaseModel):
    """A new version of a fuel's combustion defaults; omitted parameters are carried over."""

    fuel: str = Field(min_length=1, max_length=32)
    valid_from: str = Field(pattern=VALID_FROM, description="a year (2024) or a month (2024-07)")
    source: str = Field(min_length=1)
    ncv_gj_per_unit: float | None = Field(None, gt=0, description="GJ per activity unit")
    carbon_content_tc_per_tj: float | None = Field(None, gt=0, description="tC/TJ")
    oxidation_rate: float | None = Field(None, gt=0, le=1)
    activity_unit: str | None = Field(None, description="t, 10^4 Nm3 …; default: unchanged")
    confidence: Confidence = "checked"


class HeatFactorIn(BaseModel):
    """A new version of the purchased heat and steam factor [tCO2/GJ]."""

    valid_from: str = Field(pattern=VALID_FROM, description="a year (2024) or a month (2024-07)")
    factor_tco2_per_gj: float = Field(ge=0)
    source: str = Field(min_length=1)
    confidence: Confidence = "checked"


@router.get("/factors")
def list_factors(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    kind: Literal["grid", "fuel", "heat"] | None = None,
) -> list[dict[str, Any]]:
    """List the admin-added factor versions (grid, fuel, heat) with their sources."""
    return carbon_factors.list_factors(session, p, park, kind)


@router.post("/factors", status_code=201)
def add_factor(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, body: FactorIn
) -> dict[str, Any]:
    """Add a grid factor version (platform admin); closed inventories are unchanged."""
    return carbon_factors.add_factor(session, p, carbon_factors.FactorSpec(**body.model_dump()))


@router.post("/factors/grid", status_code=201)
def add_grid_factor(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, body: FactorIn
) -> dict[str, Any]:
    """Add a grid factor version (platform admin); same as ``POST /factors``."""
    return carbon_factors.add_factor(session, p, carbon_factors.FactorSpec(**body.model_dump()))


@router.post("/factors/fuel", status_code=201)
def add_fuel_factor(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, body: FuelFactorIn
) -> dict[str, Any]:
    """Add a fuel combustion default version (platform admin); closed inventories are unchanged."""
    spec = carbon_factors.FuelFactorSpec(**body.model_dump())
    return carbon_factors.add_fuel_factor(session, p, spec)


@router.post("/factors/heat", status_code=201)
def add_heat_factor(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, body: HeatFactorIn
) -> dict[str, Any]:
    """Add a purchased heat factor version (platform admin); closed inventories are unchanged."""
    spec = carbon_factors.HeatFactorSpec(**body.model_dump())
    return carbon_factors.add_heat_factor(session, p, spec)


@router.get("/factors/impact")
def factor_impact(
    park: ParkDep,
    session: SessionDep,
    p: CurrentPrincipal,
    factor_id: str | None = Query(None, description="prefix: fuel:natural_gas, heat:, grid:…"),
    version: str | None = Query(None, description="only inventories that would cite it"),
) -> list[dict[str, Any]]:
    """List the closed inventories that a recompute with today's factors would change."""
    return carbon_closing.factor_impact(session, p, park, factor_id, version)


@router.post("/snapshots/{snapshot_id}/recompute", status_code=201)
def recompute(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, snapshot_id: int
) -> dict[str, Any]:
    """Recompute a closed inventory into a new revision; the old one is kept as superseded."""
    return carbon_closing.recompute(session, p, park, snapshot_id)


class CertificateBody(BaseModel):
    """One certificate of a batch."""

    code: str
    vintage_year: int
    vintage_month: int = Field(ge=1, le=12)
    plant_id: str
    technology: str
    tradable: bool = True


class ImportIn(BaseModel):
    """A batch of certificates for one holder."""

    holder: str
    batch: str = ""
    certificates: list[CertificateBody]


class TransferIn(BaseModel):
    """Certificates moving between two enterprises of the park."""

    codes: list[str]
    from_enterprise: str
    to_enterprise: str


class RetireIn(BaseModel):
    """Certificates retired against an enterprise and a period."""

    codes: list[str]
    enterprise: str
    year: int
    month: int | None = Field(None, ge=1, le=12)
    window: Literal["same_calendar_year", "rolling_months"] = "same_calendar_year"
    months_before: int = Field(0, ge=0)
    months_after: int = Field(0, ge=0)


@router.get("/certificates")
def list_certificates(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, holder: str | None = None
) -> list[dict[str, Any]]:
    """Certificates visible to the caller, with holder and retirement."""
    return certificates.list_certificates(session, p, park, holder)


@router.post("/certificates/import", status_code=201)
def import_certificates(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, body: ImportIn
) -> dict[str, int]:
    """Import a batch (all or nothing)."""
    rows = [certificates.CertificateIn(**c.model_dump()) for c in body.certificates]
    return {"imported": certificates.import_batch(session, p, park, body.holder, rows, body.batch)}


@router.post("/certificates/transfer")
def transfer(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, body: TransferIn
) -> dict[str, int]:
    """Transfer tradable, unretired certificates (all or nothing)."""
    n = certificates.transfer(
        session, p, park, body.codes, body.from_enterprise, body.to_enterprise
    )
    return {"transferred": n}


@router.post("/certificates/retire", status_code=201)
def retire(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, body: RetireIn
) -> dict[str, Any]:
    """Retire certificates against an enterprise and period (all or nothing, once ever)."""
    policy = ClaimPolicy(body.window, body.months_before, body.months_after)
    return certificates.retire(
        session, p, park, body.codes, body.enterprise, Period(body.year, body.month), policy
    )
