"""Parks, enterprises and meters."""

from __future__ import annotations

from fastapi import APIRouter

from lingtan.api.deps import CurrentPrincipal, ParkDep, SessionDep
from lingtan.api.schemas import (
    EnterpriseIn,
    EnterpriseOut,
    MeterIn,
    MeterOut,
    ParkIn,
    ParkOut,
    SiteIn,
    SiteOut,
)
from lingtan.services import parks as svc

router = APIRouter(prefix="/api/v1", tags=["park"])


@router.get("/parks", response_model=list[ParkOut])
def list_parks(session: SessionDep, p: CurrentPrincipal) -> list[ParkOut]:
    """List the parks the caller belongs to."""
    return [ParkOut.model_validate(x) for x in svc.list_parks(session, p)]


@router.post("/parks", response_model=ParkOut, status_code=201)
def create_park(body: ParkIn, session: SessionDep, p: CurrentPrincipal) -> ParkOut:
    """Create a park (platform admin).

    ``province`` must be an ISO 3166-2:CN code of the shipped grid reference data (``CN-YN``;
    ``CN-NM-W``/``CN-NM-E`` for Inner Mongolia's two grids): a park elsewhere would silently get
    the national grid factor, so other codes are refused with the list of valid ones.
    """
    return ParkOut.model_validate(svc.create_park(session, svc.ParkSpec(**body.model_dump()), by=p))


@router.get("/parks/{park_code}", response_model=ParkOut)
def get_park(park: ParkDep) -> ParkOut:
    """Return one park."""
    return ParkOut.model_validate(park)


@router.get("/parks/{park_code}/enterprises", response_model=list[EnterpriseOut])
def list_enterprises(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal
) -> list[EnterpriseOut]:
    """List the park's enterprises visible to the caller."""
    return [EnterpriseOut.model_validate(e) for e in svc.list_enterprises(session, p, park.id)]


@router.post("/parks/{park_code}/enterprises", response_model=EnterpriseOut, status_code=201)
def create_enterprise(
    body: EnterpriseIn, park: ParkDep, session: SessionDep, p: CurrentPrincipal
) -> EnterpriseOut:
    """Create an enterprise (park manager); a bad unified social credit code is refused."""
    ent = svc.create_enterprise(session, park, svc.EnterpriseSpec(**body.model_dump()), by=p)
    return EnterpriseOut.model_validate(ent)


@router.get("/enterprises/{enterprise_id}", response_model=EnterpriseOut)
def get_enterprise(enterprise_id: int, session: SessionDep, p: CurrentPrincipal) -> EnterpriseOut:
    """Return one enterprise visible to the caller."""
    return EnterpriseOut.model_validate(svc.get_enterprise(session, p, enterprise_id))


@router.get("/parks/{park_code}/sites", response_model=list[SiteOut])
def list_sites(park: ParkDep, session: SessionDep, p: CurrentPrincipal) -> list[SiteOut]:
    """List the park's sites visible to the caller."""
    return [
        SiteOut(id=s.id, enterprise_id=e.id, enterprise_code=e.code, code=s.code, name=s.name)
        for s, e in svc.list_sites(session, p, park)
    ]


@router.post("/parks/{park_code}/sites", response_model=SiteOut, status_code=201)
def create_site(body: SiteIn, park: ParkDep, session: SessionDep, p: CurrentPrincipal) -> SiteOut:
    """Create a site of an enterprise (park manager)."""
    ent = svc.enterprise_by_code(session, p, park, body.enterprise_code)
    site = svc.create_site(session, ent, body.code, body.name, by=p)
    return SiteOut(
        id=site.id, enterprise_id=ent.id, enterprise_code=ent.code, code=site.code, name=site.name
    )


@router.get("/parks/{park_code}/meters", response_model=list[MeterOut])
def list_meters(
    park: ParkDep, session: SessionDep, p: CurrentPrincipal, enterprise_id: int | None = None
) -> list[MeterOut]:
    """List the park's meters visible to the caller."""
    return [MeterOut.model_validate(m) for m in svc.list_meters(session, p, enterprise_id, park.id)]


@router.post("/parks/{park_code}/meters", response_model=MeterOut, status_code=201)
def create_meter(
    body: MeterIn, park: ParkDep, session: SessionDep, p: CurrentPrincipal
) -> MeterOut:
    """Create a meter (park manager).

    ``register_max`` (cumulative meters only, > 0) is the register's rollover value, its
    modulus: the register counts 0 … register_max − 1 and then shows 0 (100000 for a five-digit
    register).  A step back from ``prev`` to ``cur`` is read as ``register_max − prev + cur``;
    readings outside 0 … register_max − 1 are rejected and quarantined.
    """
    spec = svc.MeterSpec(
        **{**body.model_dump(), "carrier": body.carrier.value, "role": body.role.value}
    )
    return MeterOut.model_validate(svc.create_meter(session, park, spec, by=p))
