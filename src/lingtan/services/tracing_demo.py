"""Load the Yunnan-like demo grid as the demo park's grid model and trace it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lingtan.demo.grid import build_yunnan_grid
from lingtan.domain import UserRole
from lingtan.services.principal import Principal
from lingtan.services.tracing import GridData, load_grid_model, trace_model
from lingtan.store.models import Park

LOADER = Principal(role=UserRole.ADMIN, username="loader")


def load_demo_grid(session: Session, park: Park, year: int, seed: int = 20250101) -> dict[str, Any]:
    """Store :func:`lingtan.demo.grid.build_yunnan_grid` for the park and trace it (inline).

    Returns
    -------
    dict
        The park bus summary of :func:`lingtan.services.tracing.node_summary`.
    """
    grid = build_yunnan_grid(year, seed)
    model = load_grid_model(
        session,
        LOADER,
        park,
        "Yunnan-like demo grid (IEEE 118-bus)",
        f"lingtan.demo.grid.build_yunnan_grid({year}, seed={seed}): pandapower case118 "
        "relabelled as Yunnan prefectures; synthetic seeded hourly profiles, merit-order dispatch",
        GridData(grid.net, grid.source_mw, grid.load_mw, dict(grid.prefecture)),
    )
    return trace_model(session, LOADER, park, model.id)
