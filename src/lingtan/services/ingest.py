"""Import interval data: parse, check, convert registers, merge, quarantine — in one transaction.

A file that cannot be parsed at all raises :class:`~lingtan.errors.IngestError` before anything is
written.  Otherwise every row ends up accepted (new), unchanged, revised or rejected (kept in the
quarantine table with file, row, field and reason).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from lingtan.domain import UserRole
from lingtan.errors import PayloadTooLargeError, TenantAccessError
from lingtan.ingest.files import (
    LONG_SCHEMA,
    ParsedFile,
    detect_format,
    epoch_seconds,
    read_interval_file,
    split_csv,
)
from lingtan.ingest.validate import CheckedRows, check_rows, registers_to_intervals
from lingtan.services.principal import Principal, can_write_readings, meter_scope
from lingtan.store.models import ImportBatch, ImportShare, Meter, Park, QuarantinedRow
from lingtan.store.readings import (
    MergeCounts,
    all_new,
    load_new_stream,
    merge_readings,
    merge_registers,
    newly_stored,
    prior_registers,
)

Progress = Callable[[str, float], None]


@dataclass
class ImportSummary:
    """What an import did."""

    batch_id: int
    source: str
    layout: str
    accepted: int = 0
    unchanged: int = 0
    revised: int = 0
    rejected: int = 0
    flagged: int = 0
    # intervals of a cumulative register's difference spread evenly over a gap (quality 2),
    # among those accepted, unchanged or revised: estimates, not measured interval values
    spread: int = 0
    rejections: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self, max_rejections: int = 100) -> dict[str, object]:
        """Return the summary as plain data, with at most ``max_rejections`` rejected rows."""
        return {
            "batch_id": self.batch_id,
            "source": self.source,
            "layout": self.layout,
            "accepted": self.accepted,
            "unchanged": self.unchanged,
            "revised": self.revised,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "spread": self.spread,
            "rejections": self.rejections[:max_rejections],
        }


def _writable_meters(session: Session, p: Principal, park: Park) -> pl.DataFrame:
    rows = session.execute(
        select(
            Meter.code,
            Meter.id,
            Meter.enterprise_id,
            Meter.interval_s,
            Meter.cumulative,
            Meter.unit,
            Meter.role,
            Meter.register_max,
        ).where(Meter.park_id == park.id, meter_scope(p))
    ).all()
    schema = {
        "meter": pl.String,
        "meter_id": pl.Int64,
        "enterprise_id": pl.Int64,
        "interval_s": pl.Int64,
        "cumulative": pl.Boolean,
        "unit": pl.String,
        "role": pl.String,
        "register_max": pl.Float64,
    }
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def no_progress(stage: str, fraction: float) -> None:
    """Ignore progress reports."""
    return None


def _authorise(p: Principal, park: Park) -> None:
    if not can_write_readings(p) or (not p.is_admin and p.park_id != park.id):
        raise TenantAccessError(
            f"{p.username or p.role.value} may not write readings in park {park.code!r}"
        )


def _open_batch(
    session: Session, p: Principal, park: Park, source: str, file_format: str, stamps: str
) -> ImportBatch:
    batch = ImportBatch(
        park_id=park.id,
        enterprise_id=p.enterprise_id,
        user_id=p.user_id,
        username=(p.username or None) and p.username[:120],
        source=source[:300],
        file_format=file_format,
        stamps=stamps,
    )
    session.add(batch)
    session.flush()
    return batch


def import_frame(
    session: Session,
    p: Principal,
    park: Park,
    frame: pl.DataFrame,
    source: str,
    file_format: str,
    layout: str = "long",
    stamps: str = "start",
    now_s: int | None = None,
    progress: Progress = no_progress,
) -> ImportSummary:
    """Check and store a long frame (see :data:`lingtan.ingest.files.LONG_SCHEMA`)."""
    _authorise(p, park)
    now_s = int(time.time()) if now_s is None else now_s
    meters = _writable_meters(session, p, park)
    progress("check", 0.1)
    checked = check_rows(frame, meters, now_s, stamps, park.timezone)
    batch = _open_batch(session, p, park, source, file_format, stamps)
    return _store(session, p, park, batch, meters, checked, layout, None, progress)


def _store(
    session: Session,
    p: Principal,
    park: Park,
    batch: ImportBatch,
    meters: pl.DataFrame,
    checked: CheckedRows,
    layout: str,
    loaded: MergeCounts | None,
    progress: Progress,
) -> ImportSummary:
    """Merge checked rows (unless ``loaded`` says the intervals are in), quarantine, summarise.

    A rejected row belongs to the enterprise of its meter.  A row whose meter is unknown (not
    in the park, or not the caller's) belongs to the uploader's enterprise when an enterprise
    user or device key sent it, and otherwise stays at park level (``enterprise_id`` NULL, seen
    by the park's managers): a mistyped code in an operator's file may be another enterprise's
    meter, so its raw row must not be shown to the enterprise the rest of the file belongs to.
    """
    conn = session.connection()
    touched = set(
        meters.join(
            pl.concat(
                [checked.intervals.select("meter_id"), checked.registers.select("meter_id")]
            ).unique(),
            on="meter_id",
        )["enterprise_id"].to_list()
    )
    if batch.enterprise_id is None and len(touched) == 1:
        batch.enterprise_id = touched.pop()
    intervals = checked.intervals if loaded is None else checked.intervals.clear()
    flagged = spread = 0
    flagged_by: dict[int, int] = {}
    if checked.registers.height:
        prior = prior_registers(conn, checked.registers)
        from_registers = registers_to_intervals(checked.registers, prior, meters)
        # intervals recomputed as they were stored (a re-sent file) are not flagged again
        flagged_by = dict(
            newly_stored(conn, from_registers.filter(pl.col("quality") >= 3))
            .join(meters.select("meter_id", "enterprise_id"), on="meter_id")
            .group_by("enterprise_id")
            .len()
            .iter_rows()
        )
        flagged = sum(flagged_by.values())
        spread = from_registers.filter(pl.col("quality") == 2).height
        merge_registers(conn, checked.registers, batch.id)
        intervals = pl.concat([intervals, from_registers])
    progress("merge", 0.3)
    counts = merge_readings(conn, intervals, batch.id)
    if loaded is not None:
        counts = counts + loaded
    progress("quarantine", 0.9)
    own = p.enterprise_id if p.role in (UserRole.ENTERPRISE_USER, UserRole.DEVICE) else None
    rejected = checked.rejected.join(
        meters.select("meter", "enterprise_id"), on="meter", how="left"
    ).with_columns(pl.col("enterprise_id").fill_null(pl.lit(own, pl.Int64)))
    if rejected.height:
        session.execute(
            insert(QuarantinedRow),
            [
                {"batch_id": batch.id, "park_id": park.id, "source": batch.source, **r}
                for r in rejected.select(
                    "enterprise_id", "row", "field", "reason", "raw"
                ).iter_rows(named=True)
            ],
        )
    batch.accepted, batch.revised = counts.inserted, counts.revised
    batch.unchanged = counts.unchanged + checked.duplicates
    batch.rejected, batch.flagged = rejected.height, flagged
    session.flush()
    _write_shares(session, batch.id, meters, counts, rejected, flagged_by)
    progress("done", 1.0)
    return ImportSummary(
        batch_id=batch.id,
        source=batch.source,
        layout=layout,
        accepted=batch.accepted,
        unchanged=batch.unchanged,
        revised=batch.revised,
        rejected=batch.rejected,
        flagged=flagged,
        spread=spread,
        rejections=rejected.select("row", "meter", "field", "reason").to_dicts(),
    )


def _write_shares(
    session: Session,
    batch_id: int,
    meters: pl.DataFrame,
    counts: MergeCounts,
    rejected: pl.DataFrame,
    flagged: dict[int, int],
) -> None:
    """Record each enterprise's part of the batch (:class:`ImportShare`)."""
    merged = (
        counts.by_meter.join(meters.select("meter_id", "enterprise_id"), on="meter_id")
        .group_by("enterprise_id")
        .agg(pl.col("inserted", "unchanged", "revised").sum())
    )
    refused = (
        rejected.filter(pl.col("enterprise_id").is_not_null())
        .group_by("enterprise_id")
        .agg(rejected=pl.len())
    )
    shares = merged.join(refused, on="enterprise_id", how="full", coalesce=True).fill_null(0)
    if shares.height:
        session.execute(
            insert(ImportShare),
            [
                {
                    "batch_id": batch_id,
                    "enterprise_id": e,
                    "accepted": new,
                    "unchanged": same,
                    "revised": rev,
                    "rejected": bad,
                    "flagged": flagged.get(e, 0),
                }
                for e, new, same, rev, bad in shares.select(
                    "enterprise_id", "inserted", "unchanged", "revised", "rejected"
                ).iter_rows()
            ],
        )


# Files with more data rows than this are parsed in chunks while earlier chunks load
# (PostgreSQL, CSV): parsing on the client and loading on the server then overlap.
STREAM_ROWS = 200_000
STREAM_FIRST_ROWS = 40_000  # a small first chunk: the server starts loading sooner


def _import_streaming(
    session: Session,
    p: Principal,
    park: Park,
    chunks: list[tuple[bytes, int]],
    name: str,
    stamps: str,
    progress: Progress,
) -> ImportSummary:
    now_s = int(time.time())
    meters = _writable_meters(session, p, park)
    batch = _open_batch(session, p, park, name, "csv", stamps)
    parsed: list[ParsedFile] = []
    checked: list[CheckedRows] = []
    interval_s = dict(meters.select("meter_id", "interval_s").iter_rows())

    def produce() -> Iterator[pl.DataFrame]:
        for i, (chunk, first_row) in enumerate(chunks):
            parsed.append(read_interval_file(chunk, name, park.timezone, first_row))
            checked.append(check_rows(parsed[-1].frame, meters, now_s, stamps, park.timezone))
            progress("load", 0.05 + 0.8 * (i + 1) / len(chunks))
            yield checked[-1].intervals

    conn = session.connection()
    if load_new_stream(conn, produce(), batch.id, interval_s):
        whole = CheckedRows(
            intervals=pl.concat([c.intervals for c in checked]),
            registers=pl.concat([c.registers for c in checked]),
            rejected=pl.concat([c.rejected for c in checked]),
            duplicates=sum(c.duplicates for c in checked),
        )
        loaded = all_new(whole.intervals)
        return _store(session, p, park, batch, meters, whole, parsed[0].layout, loaded, progress)
    # a key exists already (stored, or repeated across chunks): check the file as a whole
    frame = pl.concat([x.frame for x in parsed])
    whole = check_rows(frame, meters, now_s, stamps, park.timezone)
    return _store(session, p, park, batch, meters, whole, parsed[0].layout, None, progress)


def import_file(
    session: Session,
    p: Principal,
    park: Park,
    data: bytes,
    name: str,
    stamps: str = "start",
    max_bytes: int | None = None,
    progress: Progress = no_progress,
) -> ImportSummary:
    """Parse a CSV, Excel or Parquet file and import it (see :func:`import_frame`)."""
    if max_bytes is not None and len(data) > max_bytes:
        raise PayloadTooLargeError(
            f"{name}: {len(data)} bytes exceeds the upload limit of {max_bytes} bytes"
        )
    if session.get_bind().dialect.name == "postgresql" and detect_format(name) == "csv":
        chunks = split_csv(data, STREAM_ROWS, STREAM_FIRST_ROWS)
        if chunks is not None:
            _authorise(p, park)
            return _import_streaming(session, p, park, chunks, name, stamps, progress)
    parsed = read_interval_file(data, name, park.timezone)
    progress("parsed", 0.05)
    return import_frame(
        session,
        p,
        park,
        parsed.frame,
        name,
        parsed.file_format,
        parsed.layout,
        stamps,
        progress=progress,
    )


def records_frame(records: list[dict[str, object]], timezone: str) -> pl.DataFrame:
    """Turn posted records ``{meter, ts, value, unit?}`` into the long frame; row = 1-based index."""
    raw = pl.DataFrame(
        {
            "row": list(range(1, len(records) + 1)),
            "meter": [str(r.get("meter", "")) for r in records],
            "ts_raw": [str(r.get("ts", "")) for r in records],
            "value_raw": ["" if r.get("value") is None else str(r.get("value")) for r in records],
            "unit": [None if r.get("unit") is None else str(r.get("unit")) for r in records],
        },
        schema={
            "row": pl.Int64,
            "meter": pl.String,
            "ts_raw": pl.String,
            "value_raw": pl.String,
            "unit": pl.String,
        },
    )
    return (
        raw.with_columns(
            ts=epoch_seconds(raw["ts_raw"], timezone),
            value=pl.col("value_raw").str.strip_chars().cast(pl.Float64, strict=False),
        )
        .select(list(LONG_SCHEMA))
        .cast(LONG_SCHEMA)
    )


@dataclass(frozen=True)
class BatchView:
    """An import as a history lists it: the batch, with the counts of the part the list is of."""

    id: int
    enterprise_id: int | None
    source: str
    file_format: str
    stamps: str
    created_at: datetime
    username: str | None
    accepted: int
    unchanged: int
    revised: int
    rejected: int
    flagged: int


def _view(b: ImportBatch, counts: ImportBatch | ImportShare) -> BatchView:
    return BatchView(
        b.id, b.enterprise_id, b.source, b.file_format, b.stamps, b.created_at, b.username,
        counts.accepted, counts.unchanged, counts.revised, counts.rejected, counts.flagged,
    )  # fmt: skip


def list_batches(
    session: Session, p: Principal, park_id: int, enterprise_id: int | None = None
) -> list[BatchView]:
    """Return the import history visible to the caller, newest first.

    An enterprise's history (an enterprise user's, or any caller's ``enterprise_id``) lists
    every batch that touched the enterprise — an operator's file of several enterprises
    included — with the enterprise's own counts (:class:`ImportShare`); the park's lists whole
    batches.
    """
    if not p.is_admin and p.park_id != park_id:
        return []
    if p.enterprise_id is not None and not p.is_admin:
        enterprise_id = p.enterprise_id
    if enterprise_id is None:
        stmt = (
            select(ImportBatch)
            .where(ImportBatch.park_id == park_id)
            .order_by(ImportBatch.id.desc())
            .limit(200)
        )
        return [_view(b, b) for b in session.scalars(stmt)]
    rows = session.execute(
        select(ImportBatch, ImportShare)
        .join(ImportShare, ImportShare.batch_id == ImportBatch.id)
        .where(ImportBatch.park_id == park_id, ImportShare.enterprise_id == enterprise_id)
        .order_by(ImportBatch.id.desc())
        .limit(200)
    ).all()
    return [_view(b, share) for b, share in rows]


def list_quarantine(
    session: Session, p: Principal, park_id: int, batch_id: int | None = None, limit: int = 500
) -> list[QuarantinedRow]:
    """Return rejected rows visible to the caller (an enterprise user sees only its own)."""
    if not p.is_admin and p.park_id != park_id:
        return []
    stmt = (
        select(QuarantinedRow).where(QuarantinedRow.park_id == park_id).order_by(QuarantinedRow.id)
    )
    if p.enterprise_id is not None and not p.is_admin:
        stmt = stmt.where(QuarantinedRow.enterprise_id == p.enterprise_id)
    if batch_id is not None:
        stmt = stmt.where(QuarantinedRow.batch_id == batch_id)
    return list(session.scalars(stmt.limit(limit)))
