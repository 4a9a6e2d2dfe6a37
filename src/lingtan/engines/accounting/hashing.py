"""Content hash of a computation: SHA-256 over a canonical JSON of its inputs and results.

Canonical form: dataclasses become dicts, tuples and lists become lists, mapping keys are sorted,
floats are written with 12 significant digits (so that 0.1 + 0.2 and 0.3 hash alike) and ``-0.0``
is written as ``0``.  Recomputing the same period from the same data gives the same hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any

from lingtan.errors import ValidationError

SIGNIFICANT_DIGITS = 12


def canonical(value: Any) -> Any:
    """Return ``value`` as JSON-ready data in canonical form (see module docstring).

    Raises
    ------
    ValidationError
        If a float is not finite or a value has no canonical form.
    """
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, Enum):
        return canonical(value.value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"non-finite number {value!r} cannot be hashed")
        text = f"{value:.{SIGNIFICANT_DIGITS}g}"
        return "0" if float(text) == 0.0 else text
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    raise ValidationError(f"value of type {type(value).__name__} has no canonical form")


def content_hash(payload: Any) -> str:
    """Return the hex SHA-256 of the canonical JSON of ``payload``."""
    text = json.dumps(canonical(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
