"""Green electricity traceability: proportional sharing and carbon emission flow.

``trace_pandapower`` traces one solved pandapower snapshot; ``trace_year`` traces hourly
profiles (a year) on the same network with DC flows, all hours at once.
"""

from lingtan.engines.tracing.network import source_table
from lingtan.engines.tracing.snapshot import SnapshotTrace, trace_pandapower, trace_snapshot
from lingtan.engines.tracing.year import YearTrace, trace_year

__all__ = [
    "SnapshotTrace",
    "YearTrace",
    "source_table",
    "trace_pandapower",
    "trace_snapshot",
    "trace_year",
]
