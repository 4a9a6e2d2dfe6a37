"""One error family for Lingtan.

Every message names the object and the missing or bad value, so that a user can act on it.
"""

from __future__ import annotations

from typing import Any


class LingtanError(Exception):
    """Base class of every error Lingtan raises on purpose."""

    code = "lingtan_error"
    http_status = 400

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationError(LingtanError):
    """A value given by a user is not acceptable (the message says which and why)."""

    code = "validation_error"
    http_status = 422


class NotFoundError(LingtanError):
    """An object does not exist, or is not visible to the caller."""

    code = "not_found"
    http_status = 404


class PayloadTooLargeError(LingtanError):
    """An upload or request body is larger than the configured limit; nothing was read."""

    code = "payload_too_large"
    http_status = 413


class ConflictError(LingtanError):
    """The request conflicts with the current state (duplicate key, already retired, ...)."""

    code = "conflict"
    http_status = 409


class IngestError(LingtanError):
    """A file or message cannot be ingested at all; nothing was written."""

    code = "ingest_error"
    http_status = 422


class MissingFactorError(LingtanError):
    """A factor needed for a computation is not available; never read as zero."""

    code = "missing_factor"
    http_status = 422


class MissingDataError(LingtanError):
    """Data needed for a computation is missing (gap, missing hour, missing attribute)."""

    code = "missing_data"
    http_status = 422


class UnitError(LingtanError):
    """A quantity's unit is unknown or cannot be converted to the unit required."""

    code = "unit_error"
    http_status = 422


class AuthenticationError(LingtanError):
    """Credentials are missing or wrong."""

    code = "unauthenticated"
    http_status = 401


class TenantAccessError(LingtanError):
    """The caller's role or tenancy does not allow this action or object."""

    code = "forbidden"
    http_status = 403


class TracingError(LingtanError):
    """A grid cannot be traced (power flow not converged, unsupplied island, bad flows...)."""

    code = "tracing_error"
    http_status = 422
