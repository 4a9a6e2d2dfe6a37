"""Lingtan (零碳): energy–carbon platform for zero-carbon industrial parks."""

__version__ = "0.1.0"
