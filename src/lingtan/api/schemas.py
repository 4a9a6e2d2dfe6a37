"""API schemas (separate from the database models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from lingtan.domain import Carrier, MeterRole, UserRole
from lingtan.store.models import as_utc

#: An instant, always written with its zone: ISO 8601 in UTC, ``2026-11-26T04:59:14+00:00``
#: (a naive one read back from SQLite is the stored UTC time).
UtcDatetime = Annotated[
    datetime,
    AfterValidator(as_utc),
    PlainSerializer(lambda t: t.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ErrorOut(BaseModel):
    """Every error: a stable code, a message naming the object, optional details."""

    code: str
    message: str
    details: object | None = None


class TokenOut(BaseModel):
    """A session token."""

    access_token: str
    token_type: str = "bearer"


class LoginIn(BaseModel):
    """User name and password."""

    username: str
    password: str


class MeOut(BaseModel):
    """The calling principal."""

    username: str
    role: UserRole
    park_id: int | None
    enterprise_id: int | None


class ParkIn(BaseModel):
    """A new park."""

    code: str = Field(min_length=1, max_length=64)
    name: str
    name_en: str = ""
    province: str = Field(
        description="ISO 3166-2:CN code of the grid reference data, e.g. CN-YN "
        "(CN-NM-W / CN-NM-E for the western and eastern Inner Mongolia grids)"
    )
    latitude: float | None = None
    longitude: float | None = None
    altitude_m: float | None = None
    timezone: str = "Asia/Shanghai"
    grid_bus: str | None = None


class ParkOut(ParkIn):
    """A park."""

    model_config = ConfigDict(from_attributes=True)
    id: int


class EnterpriseIn(BaseModel):
    """A new enterprise; ``uscc`` is checked against GB 32100-2015."""

    code: str = Field(min_length=1, max_length=64)
    name: str
    name_en: str = ""
    uscc: str = Field(description="unified social credit code, 18 characters")
    industry_code: str = Field(description="GB/T 4754-2017 industry class, e.g. C3841")
    key_emitter: bool = False


class EnterpriseOut(EnterpriseIn):
    """An enterprise."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    park_id: int


class SiteIn(BaseModel):
    """A new site of an enterprise."""

    enterprise_code: str
    code: str = Field(min_length=1, max_length=64)
    name: str


class SiteOut(BaseModel):
    """A site."""

    id: int
    enterprise_id: int
    enterprise_code: str
    code: str
    name: str


class MeterIn(BaseModel):
    """A new meter."""

    code: str = Field(min_length=1, max_length=64)
    enterprise_code: str
    carrier: Carrier
    role: MeterRole
    unit: str = Field(description="kWh, MWh, m3, t, kg, GJ …")
    name: str = ""
    site_code: str | None = None
    interval_min: int = Field(15, description="interval length [min]")
    cumulative: bool = Field(
        False, description="values are a cumulative register read at interval end"
    )
    parent_code: str | None = None
    register_max: float | None = Field(
        None,
        description=(
            "rollover value (modulus) of a cumulative register: it counts 0 … register_max − 1, "
            "then shows 0 (100000 for five digits); readings outside are rejected"
        ),
    )


class MeterOut(BaseModel):
    """A meter."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    enterprise_id: int
    carrier: str
    role: str
    unit: str
    interval_s: int
    cumulative: bool
    parent_id: int | None


class ReadingIn(BaseModel):
    """One posted reading; timestamps without zone are Asia/Shanghai."""

    meter: str
    ts: str
    value: float | str | None
    unit: str | None = None


class ReadingsIn(BaseModel):
    """A batch of posted readings."""

    readings: list[ReadingIn] = Field(max_length=100_000)
    stamps: str = Field("start", pattern="^(start|end)$")


class RejectionOut(BaseModel):
    """A rejected row."""

    row: int
    meter: str | None
    field: str
    reason: str


class ImportOut(BaseModel):
    """The summary of an import."""

    batch_id: int
    source: str
    layout: str
    accepted: int
    unchanged: int
    revised: int
    rejected: int
    flagged: int
    rejections: list[RejectionOut]


class BatchOut(BaseModel):
    """An import in the history."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    enterprise_id: int | None
    source: str
    file_format: str
    stamps: str
    created_at: UtcDatetime
    accepted: int
    unchanged: int
    revised: int
    rejected: int
    flagged: int


class QuarantineOut(BaseModel):
    """A quarantined row."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    batch_id: int
    enterprise_id: int | None
    source: str
    row: int
    field: str
    reason: str
    raw: str


class UserIn(BaseModel):
    """A new user."""

    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=8)
    role: UserRole
    park_code: str | None = None
    enterprise_code: str | None = None
    display_name: str = ""


class UserOut(BaseModel):
    """A user (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    role: str
    park_id: int | None
    enterprise_id: int | None
    display_name: str


# --- carbon accounting inputs (see lingtan.services.carbon_inputs) -------------------------------


class InputPeriodIn(BaseModel):
    """The enterprise (by code) and the month, or year, a carbon input is recorded for."""

    enterprise: str = Field(min_length=1, description="enterprise code")
    year: int
    month: int | None = Field(None, ge=1, le=12, description="omit for the whole year")


class InputRecordOut(BaseModel):
    """What every recorded carbon input carries besides its values.

    Of the production or measured parameter records of one enterprise and period (and fuel) the
    newest is used, whole; the older ones stay listed, superseded.
    """

    id: int
    enterprise: str
    year: int
    month: int | None
    period: str = Field(description="2022 for a year, 2022-01 for a month")
    created_at: UtcDatetime = Field(description="when it was recorded, UTC")
    in_use: bool = Field(
        description="inventories of the period use this record; false: superseded by a newer "
        "record of the same enterprise and period (and fuel), or production of an enterprise "
        "that is not a primary aluminium smelter (never used; superseded_by null)"
    )
    superseded_by: int | None = Field(
        description="id of the newer record of the same enterprise and period (and fuel) used "
        "instead; null for a record in use"
    )
    supersedes: list[int] = Field(
        description="ids of the older records of the same enterprise and period (and fuel) this "
        "record replaced; they stay listed"
    )


class ProductionRecordIn(InputPeriodIn):
    """Primary aluminium production of a smelter (GB/T 4754-2017 C3216) for a period.

    Omitted measurements use the IPCC 2006 defaults (Vol. 3 Tables 4.11 and 4.15): anode sulfur
    2 %, ash 0.4 %; CF4 0.4 and C2F6 0.04 kg/t Al of centre-worked prebake cells.
    """

    aluminium_t: float = Field(ge=0, description="primary aluminium produced [t]")
    anode_net_consumption_t: float = Field(ge=0, description="net carbon anode consumption [t]")
    anode_sulfur_fraction: float | None = Field(
        None, ge=0, le=1, description="measured anode sulfur mass fraction [-]"
    )
    anode_ash_fraction: float | None = Field(
        None, ge=0, le=1, description="measured anode ash mass fraction [-]"
    )
    cf4_kg_per_t_al: float | None = Field(
        None, ge=0, description="measured CF4 emission factor [kg/t Al]"
    )
    c2f6_kg_per_t_al: float | None = Field(
        None, ge=0, description="measured C2F6 emission factor [kg/t Al]"
    )
    reference: str = Field(
        "", max_length=300, description="where the figures come from; needed with measurements"
    )


class ProductionRecordOut(InputRecordOut):
    """A recorded aluminium production (``None``: the default applies).

    The newest record of an enterprise and period is used, whole: a measurement it leaves empty
    is the default, not an older record's value.
    """

    aluminium_t: float
    anode_net_consumption_t: float
    anode_sulfur_fraction: float | None
    anode_ash_fraction: float | None
    cf4_kg_per_t_al: float | None
    c2f6_kg_per_t_al: float | None
    reference: str


class MeasuredParametersIn(InputPeriodIn):
    """Measured combustion parameters of a fuel, or steam's enthalpy; omitted: the default."""

    fuel: str = Field(description="fuel as in the factor tables (natural_gas, diesel …) or steam")
    reference: str = Field(min_length=1, max_length=300, description="lab report, date")
    activity_unit: str | None = Field(
        None, description="unit the NCV is per (t, 10^4 Nm3 …); default: the fuel's"
    )
    ncv_gj_per_unit: float | None = Field(
        None, gt=0, description="net calorific value [GJ/activity unit]; steam: enthalpy [GJ/t]"
    )
    carbon_content_tc_per_tj: float | None = Field(None, gt=0, description="[tC/TJ]")
    oxidation_rate: float | None = Field(None, gt=0, le=1, description="[-]")


class MeasuredParametersOut(InputRecordOut):
    """Recorded measured fuel parameters (``None``: the default applies).

    The newest record of an enterprise, fuel and period is used, whole: a parameter it leaves
    empty is the default, not an older record's value (record the parameters of two reports
    together, in one record).
    """

    fuel: str
    reference: str
    activity_unit: str | None
    ncv_gj_per_unit: float | None
    carbon_content_tc_per_tj: float | None
    oxidation_rate: float | None


class GreenContractIn(InputPeriodIn):
    """Green power contracted and delivered in a period (once per reference and period)."""

    mwh: float = Field(ge=0, description="green power delivered in the period [MWh]")
    contract_ref: str = Field(min_length=1, max_length=200, description="contract id")
    replace: bool = Field(
        False, description="update the record of this reference and period instead"
    )


class GreenContractOut(InputRecordOut):
    """A recorded green power contract delivery [MWh]; always in use (corrected in place)."""

    mwh: float
    contract_ref: str
