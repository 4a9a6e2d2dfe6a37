"""API schemas (separate from the database models)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from lingtan.domain import Carrier, MeterRole, UserRole


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
    created_at: datetime
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
