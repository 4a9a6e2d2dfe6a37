"""Published factors and limits shipped as package data, each row with its source.

Code looks values up through the typed loaders in this package, never through literals in
functions.  Every CSV under ``data/`` has a ``source`` column (and usually ``confidence``) that
travels with the value into results, so that a verifier can trace each figure.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def read_rows(name: str) -> tuple[dict[str, str], ...]:
    """Read the shipped CSV ``data/<name>`` as a tuple of row dictionaries.

    Parameters
    ----------
    name : str
        File name inside ``lingtan/reference/data``.
    """
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return tuple(csv.DictReader(text.splitlines()))
