"""Certificates of traced green electricity drawn from the public grid.

For enterprise ``e`` and hour ``h``::

    traced_green_mwh[e, h] = grid_import_kwh[e, h] / 1000 × green_share[park bus, h]

with ``grid_import_kwh`` the sum of the enterprise's ``grid_import`` meters' hourly roll-ups and
``green_share`` the traced share at the park's bus of the newest traced grid model.  An hour is
certified only when every grid-import meter reported all its intervals and the hour was traced;
any other hour is a gap, listed in the certificate and never counted as green (nor as zero
import).  Monthly and annual certificates state the method, the grid data and its period, the
assumptions and the completeness; they come as JSON and as a PDF (Chinese with ReportLab's
``STSong-Light`` CID font, or English).
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.engines.accounting import Period
from lingtan.engines.energy import carrier_basis
from lingtan.errors import MissingDataError
from lingtan.services.carbon import no_meter_error, period_bounds, visible_enterprise
from lingtan.services.principal import Principal, meter_scope
from lingtan.services.tracing import METHOD, get_model, node_series
from lingtan.store.grid_models import GridModel
from lingtan.store.models import Enterprise, Meter, Park, ReadingHourly

ASSUMPTIONS = (
    "Flows are DC power flows (lossless, flat voltage) of the grid model's hourly source and "
    "load profiles; each source's output is known and its intensity is its stack emissions.",
    "Power mixes proportionally at every bus (proportional sharing); the enterprise draws the "
    "mix arriving at the park's bus.",
    "An hour with incomplete meter data or without a traced mix is a gap: not certified, "
    "never counted as green.",
)


def hour_grid(start_s: int, end_s: int) -> np.ndarray:
    """Return the hour starts of ``[start_s, end_s)`` [epoch s]."""
    return np.arange(start_s, end_s, 3600, dtype=np.int64)


def counted_electricity_meters(
    session: Session, p: Principal, ent: Enterprise
) -> list[tuple[int, str, str]]:
    """Return the enterprise's electricity meters that measure it, as (id, code, role).

    By the rule of the energy and carbon reports (:func:`lingtan.engines.energy.carrier_basis`):
    top-level meters only (a sub-meter is inside its parent's figure); a ``purchase`` meter is
    grid import; with no boundary meter, top-level consumption meters are grid import (a tenant
    behind the park's connection).  Raises if no meter measures the enterprise's electricity.
    """
    found = session.execute(
        select(Meter.id, Meter.code, Meter.role, Meter.parent_id).where(
            Meter.enterprise_id == ent.id, Meter.carrier == "electricity", meter_scope(p)
        )
    ).all()
    basis, signs = carrier_basis("electricity", [(r.role, r.parent_id is None) for r in found])
    if basis == "no_meter":
        raise no_meter_error(ent, "electricity", [r.code for r in found])
    as_import = {"purchase", "consumption"}
    return [
        (r.id, r.code, "grid_import" if r.role in as_import else r.role)
        for r, sign in zip(found, signs, strict=True)
        if sign is not None
    ]


def role_hours(
    session: Session,
    p: Principal,
    ent: Enterprise,
    roles: tuple[str, ...],
    start_s: int,
    end_s: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, list[str]]]:
    """Hourly electricity per role of an enterprise's meters [kWh], and completeness.

    Returns
    -------
    kwh : pandas.DataFrame
        Hours (epoch s) x roles: the sum of the role's meters; NaN where any is incomplete.
    complete : pandas.DataFrame
        Hours x roles: True when every meter of the role reported all intervals.
    meters : dict[str, list[str]]
        Meter codes per role (a role without meters has none and a zero column).
    """
    rows = [r for r in counted_electricity_meters(session, p, ent) if r[2] in roles]
    hours = hour_grid(start_s, end_s)
    meters = {r: sorted(c for _, c, role in rows if role == r) for r in roles}
    kwh = pd.DataFrame(0.0, index=pd.Index(hours, name="hour"), columns=list(roles))
    complete = pd.DataFrame(True, index=kwh.index, columns=list(roles))
    role_of = {mid: role for mid, _, role in rows}
    if not role_of:
        return kwh, complete, meters
    data = pd.DataFrame(
        session.execute(
            select(
                ReadingHourly.meter_id, ReadingHourly.hour, ReadingHourly.value,
                ReadingHourly.present, ReadingHourly.expected,
            ).where(
                ReadingHourly.meter_id.in_(list(role_of)),
                ReadingHourly.hour >= start_s, ReadingHourly.hour < end_s,
            )
        ).all(),
        columns=["meter_id", "hour", "value", "present", "expected"],
    ).astype({"value": float, "present": float, "expected": float})  # fmt: skip
    for mid, role in role_of.items():
        m = data[data["meter_id"] == mid].set_index("hour").reindex(kwh.index)
        ok = m["present"].notna() & (m["present"] >= m["expected"])
        kwh[role] += m["value"].fillna(0.0).astype(float)
        complete[role] &= ok.to_numpy()
    return kwh.where(complete), complete, meters


def incomplete_meters(
    session: Session, p: Principal, ent: Enterprise, role: str, hour_s: int
) -> list[str]:
    """Codes of the enterprise's electricity meters of ``role`` short of intervals in an hour."""
    rows = session.execute(
        select(Meter.code, ReadingHourly.present, ReadingHourly.expected)
        .join(
            ReadingHourly,
            (ReadingHourly.meter_id == Meter.id) & (ReadingHourly.hour == hour_s),
            isouter=True,
        )
        .where(
            Meter.enterprise_id == ent.id,
            Meter.carrier == "electricity",
            Meter.role == role,
            meter_scope(p),
        )
    ).all()
    return sorted(code for code, present, expected in rows if present is None or present < expected)


def _local(hour_s: int, tz: str) -> str:
    return pd.Timestamp(hour_s, unit="s", tz="UTC").tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def traced_green(
    session: Session, p: Principal, park: Park, ent: Enterprise, model: GridModel, period: Period
) -> pd.DataFrame:
    """Per hour of the period: grid import [kWh], traced green share and green MWh, status.

    ``status`` is ``ok``, ``no_meter_data`` or ``no_trace``; green MWh is NaN unless ``ok``.
    """
    start_s, end_s = period_bounds(period, park.timezone)
    kwh, _, meters = role_hours(session, p, ent, ("grid_import",), start_s, end_s)
    if not meters["grid_import"]:
        raise MissingDataError(f"enterprise {ent.code} has no grid_import meter to certify")
    share = node_series(session, model, start_s, end_s)["green_share"].reindex(kwh.index)
    out = pd.DataFrame({"grid_import_kwh": kwh["grid_import"], "green_share": share})
    out["status"] = np.where(
        out["grid_import_kwh"].isna(), "no_meter_data", np.where(share.isna(), "no_trace", "ok")
    )
    ok = out["status"] == "ok"
    out["traced_green_mwh"] = (out["grid_import_kwh"] / 1000.0 * out["green_share"]).where(ok)
    return out


def _summary(frame: pd.DataFrame) -> dict[str, Any]:
    ok = frame["status"] == "ok"
    imp = float(frame.loc[ok, "grid_import_kwh"].sum()) / 1000.0
    green = float(frame.loc[ok, "traced_green_mwh"].sum())
    return {
        "hours": len(frame),
        "hours_certified": int(ok.sum()),
        # counted independently: an hour can lack both
        "hours_without_meter_data": int(frame["grid_import_kwh"].isna().sum()),
        "hours_without_trace": int(frame["green_share"].isna().sum()),
        "completeness": float(ok.mean()) if len(frame) else None,
        "grid_import_mwh": imp,
        "traced_green_mwh": green,
        "traced_green_share": green / imp if imp > 0 else None,
    }


def certificate(
    session: Session,
    p: Principal,
    park: Park,
    enterprise_code: str,
    period: Period,
    model_id: int | None = None,
) -> dict[str, Any]:
    """Return the certificate of traced green grid electricity of an enterprise and period."""
    ent = visible_enterprise(session, p, park, enterprise_code)
    model = get_model(session, p, park, model_id)
    frame = traced_green(session, p, park, ent, model, period)
    local = pd.to_datetime(frame.index, unit="s", utc=True).tz_convert(park.timezone)
    months = [
        {"month": f"{period.year}-{m:02d}", **_summary(frame[local.month == m])}
        for m in sorted(set(local.month))
    ]
    gaps = frame[frame["status"] != "ok"]
    body: dict[str, Any] = {
        "kind": "traced_green_electricity_certificate",
        "park": park.code,
        "enterprise": {"code": ent.code, "name": ent.name, "uscc": ent.uscc},
        "period": {"label": period.label, "year": period.year, "month": period.month,
                   "timezone": park.timezone},
        "totals": _summary(frame),
        "months": months,
        "method": {
            "formula": "traced_green_mwh = Σ_h grid_import_kwh_h / 1000 × green_share_h",
            "tracing": METHOD,
            "grid_import": "sum of the enterprise's grid_import meters' hourly roll-ups",
        },
        "grid_data": {
            "grid_model_id": model.id, "name": model.name, "source": model.source,
            "period_start": datetime.fromtimestamp(model.start_s, UTC).isoformat(),
            "period_end": datetime.fromtimestamp(model.end_s, UTC).isoformat(),
            "park_bus": model.park_bus_name,
            "traced_at": model.traced_at.isoformat() if model.traced_at else None,
        },
        "assumptions": list(ASSUMPTIONS),
        "gaps": [{"hour": _local(int(h), park.timezone), "reason": str(s)}
                 for h, s in zip(gaps.index.to_numpy(), gaps["status"], strict=True)][:200],
    }  # fmt: skip
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    body["certificate_id"] = f"TGE-{park.code}-{ent.code}-{period.label}-{digest[:12]}"
    body["content_hash"] = digest
    return body


PDF_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "电网溯源绿色电力证明", "id": "证明编号", "enterprise": "企业", "uscc": "统一社会信用代码",
        "park": "园区", "period": "证明期", "import": "电网购电量 (MWh)",
        "green": "溯源绿色电量 (MWh)", "share": "绿色电量占比", "completeness": "数据完整率",
        "gaps": "缺口小时（未计入绿色）", "month": "月份", "method": "方法", "grid": "电网数据",
        "assumptions": "假设", "hash": "内容哈希",
    },
    "en": {
        "title": "Certificate of traced green grid electricity", "id": "Certificate",
        "enterprise": "Enterprise", "uscc": "USCC", "park": "Park", "period": "Period",
        "import": "Grid import (MWh)", "green": "Traced green (MWh)", "share": "Green share",
        "completeness": "Completeness", "gaps": "Gap hours (not counted as green)",
        "month": "Month", "method": "Method", "grid": "Grid data", "assumptions": "Assumptions",
        "hash": "Content hash",
    },
}  # fmt: skip


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None:
        return "—"
    if pct:
        return f"{100 * v:.2f} %"
    return f"{v:,.3f}" if isinstance(v, float) else str(v)


def _esc(v: Any) -> str:
    return str(v).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def certificate_pdf(cert: dict[str, Any], lang: str = "zh") -> bytes:
    """Return a certificate from :func:`certificate` as a PDF (Chinese or English labels)."""
    t = PDF_LABELS["en" if lang == "en" else "zh"]
    font = "Helvetica"
    if lang != "en":
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        font = "STSong-Light"
    body = ParagraphStyle("body", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    head = ParagraphStyle("head", parent=body, fontSize=14, leading=18, spaceAfter=6)

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        tbl = Table([[Paragraph(_esc(c), body) for c in r] for r in rows],
                    colWidths=[w * mm for w in widths], repeatRows=1)  # fmt: skip
        tbl.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                                 ("VALIGN", (0, 0), (-1, -1), "TOP")]))  # fmt: skip
        return tbl

    tot, grid = cert["totals"], cert["grid_data"]
    head_rows = [
        [t["id"], cert["certificate_id"]],
        [t["enterprise"], f"{cert['enterprise']['code']} {cert['enterprise']['name']}"],
        [t["uscc"], cert["enterprise"]["uscc"]], [t["park"], cert["park"]],
        [t["period"], f"{cert['period']['label']} ({cert['period']['timezone']})"],
        [t["import"], _fmt(tot["grid_import_mwh"])], [t["green"], _fmt(tot["traced_green_mwh"])],
        [t["share"], _fmt(tot["traced_green_share"], True)],
        [t["completeness"], f"{_fmt(tot['completeness'], True)} "
                            f"({tot['hours_certified']}/{tot['hours']} h)"],
        [t["grid"], f"#{grid['grid_model_id']} {grid['name']}; {grid['source']}; "
                    f"{grid['period_start']} – {grid['period_end']}; {grid['park_bus']}"],
        [t["method"], f"{cert['method']['formula']}; {cert['method']['tracing']}"],
        [t["hash"], cert["content_hash"]],
    ]  # fmt: skip
    months = [[t["month"], t["import"], t["green"], t["share"], t["completeness"]]]
    months += [[m["month"], _fmt(m["grid_import_mwh"]), _fmt(m["traced_green_mwh"]),
                _fmt(m["traced_green_share"], True), _fmt(m["completeness"], True)]
               for m in cert["months"]]  # fmt: skip
    story: list[Any] = [Paragraph(_esc(t["title"]), head), table(head_rows, [40, 140])]
    story += [Spacer(1, 4 * mm), table(months, [30, 38, 38, 36, 36])]
    story += [Spacer(1, 4 * mm), Paragraph(_esc(t["assumptions"]), head)]
    story += [Paragraph(_esc(a), body) for a in cert["assumptions"]]
    gaps = ", ".join(f"{g['hour']} ({g['reason']})" for g in cert["gaps"][:60]) or "—"
    story += [Spacer(1, 4 * mm), Paragraph(_esc(t["gaps"]), head), Paragraph(_esc(gaps), body)]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                      title=f"{t['title']} {cert['certificate_id']}").build(story)  # fmt: skip
    return out.getvalue()
