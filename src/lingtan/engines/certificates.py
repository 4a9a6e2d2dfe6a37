"""Green electricity certificates (绿证, GEC): code check, claim window and MWh coverage.

Pure rules only; the service layer stores certificates and retirements.  One certificate stands
for 1000 kWh of renewable electricity (NDRC/MOF/NEA notice 发改能源〔2023〕1044号, as quoted by
NEA news of 2023-08-15).  Codes are 32 digits: 17 of the project's registration code (type,
energy, technology, approval date, address, sequence, check digit) and 15 of electricity data
(generation date, certificate sequence, electricity class, trade class), per the explanation
relayed by 中国碳交易网 (2025-03-26); the check-digit algorithm is not published there, so only
length and digits are checked.  A certificate is retired once, ever; a vintage outside the
policy's claim window is refused with the reason.

Claim window (configurable by :class:`ClaimPolicy`): by default the vintage month must fall in
the same calendar year as the claimed period.  A rolling window instead allows vintages from
``months_before`` months before the period's first month to ``months_after`` months after its
last month.  Non-tradable certificates can only be claimed by their holder (assumption: they
cannot change hands, so only the account they were issued to may use them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from lingtan.engines.accounting.model import Period
from lingtan.errors import ValidationError

CODE_LENGTH = 32
MWH_PER_CERTIFICATE = 1.0


def validate_certificate_code(code: str) -> str:
    """Return ``code`` if it is exactly 32 ASCII digits.

    Raises
    ------
    ValidationError
        Naming the code and what is wrong with it.
    """
    if len(code) != CODE_LENGTH or not (code.isascii() and code.isdigit()):
        raise ValidationError(
            f"certificate code {code!r} must be exactly {CODE_LENGTH} digits "
            f"(has {len(code)} characters)"
        )
    return code


@dataclass(frozen=True)
class GreenCertificate:
    """One green electricity certificate (1 MWh).

    Parameters
    ----------
    code : str
        32-digit certificate code.
    vintage_year, vintage_month : int
        Month the electricity was generated.
    plant_id : str
        Generating plant.
    technology : str
        ``wind``, ``solar``, ``hydro``, ``biomass`` ...
    tradable : bool
        Whether the certificate may change hands.
    holder_id : str
        Account holding the certificate.
    """

    code: str
    vintage_year: int
    vintage_month: int
    plant_id: str
    technology: str
    tradable: bool
    holder_id: str = ""

    def __post_init__(self) -> None:
        validate_certificate_code(self.code)
        if not 1 <= self.vintage_month <= 12:
            raise ValidationError(f"certificate {self.code}: vintage month {self.vintage_month}")

    @property
    def vintage_index(self) -> int:
        """Months since year 0 of the vintage month."""
        return self.vintage_year * 12 + self.vintage_month - 1

    @property
    def mwh(self) -> float:
        """Electricity the certificate stands for [MWh]."""
        return MWH_PER_CERTIFICATE


@dataclass(frozen=True)
class ClaimPolicy:
    """Which vintages may be claimed for a period (see module docstring)."""

    window: Literal["same_calendar_year", "rolling_months"] = "same_calendar_year"
    months_before: int = 0
    months_after: int = 0

    def __post_init__(self) -> None:
        if self.months_before < 0 or self.months_after < 0:
            raise ValidationError("claim window months must be >= 0")


@dataclass(frozen=True)
class WindowCheck:
    """Result of the claim-window check of one certificate."""

    ok: bool
    reason: str


def check_claim_window(
    cert: GreenCertificate, period: Period, policy: ClaimPolicy | None = None
) -> WindowCheck:
    """Check the certificate's vintage against the claim window of ``period``."""
    policy = policy or ClaimPolicy()
    vintage = f"{cert.vintage_year}-{cert.vintage_month:02d}"
    if policy.window == "same_calendar_year":
        if cert.vintage_year == period.year:
            return WindowCheck(True, f"vintage {vintage} is in {period.year}")
        return WindowCheck(
            False,
            f"vintage {vintage} is outside the claim window: same calendar year as the "
            f"period {period.label} required",
        )
    lo = period.first_month_index - policy.months_before
    hi = period.last_month_index + policy.months_after
    if lo <= cert.vintage_index <= hi:
        return WindowCheck(True, f"vintage {vintage} within the rolling window")
    return WindowCheck(
        False,
        f"vintage {vintage} is outside the claim window of {period.label}: "
        f"{policy.months_before} months before to {policy.months_after} months after",
    )


@dataclass(frozen=True)
class Refusal:
    """A certificate that cannot be retired, and why."""

    code: str
    reason: str


@dataclass(frozen=True)
class RetirementPlan:
    """Which certificates may be retired against an enterprise and period."""

    enterprise_id: str
    period: Period
    accepted: tuple[GreenCertificate, ...]
    refused: tuple[Refusal, ...]

    @property
    def accepted_mwh(self) -> float:
        """Electricity covered by the accepted certificates [MWh]."""
        return sum(c.mwh for c in self.accepted)


def plan_retirement(
    certificates: Sequence[GreenCertificate],
    enterprise_id: str,
    period: Period,
    already_retired: Iterable[str] = (),
    policy: ClaimPolicy | None = None,
) -> RetirementPlan:
    """Sort certificates into accepted and refused (with reasons) for one retirement request.

    Parameters
    ----------
    certificates : sequence of GreenCertificate
        Certificates offered for retirement.
    enterprise_id : str
        Enterprise claiming the electricity.
    period : Period
        Month or year of consumption claimed.
    already_retired : iterable of str
        Codes retired before, against any enterprise or period (a certificate retires once).
    policy : ClaimPolicy, optional
        Claim window; the same calendar year by default.
    """
    retired = set(already_retired)
    seen: set[str] = set()
    accepted: list[GreenCertificate] = []
    refused: list[Refusal] = []
    for cert in certificates:
        window = check_claim_window(cert, period, policy)
        if cert.code in retired:
            refused.append(Refusal(cert.code, "already retired (a certificate retires once)"))
        elif cert.code in seen:
            refused.append(Refusal(cert.code, "listed twice in this request"))
        elif not window.ok:
            refused.append(Refusal(cert.code, window.reason))
        elif not cert.tradable and cert.holder_id != enterprise_id:
            refused.append(
                Refusal(cert.code, f"not tradable and held by {cert.holder_id or 'unknown'}")
            )
        else:
            accepted.append(cert)
        seen.add(cert.code)
    return RetirementPlan(enterprise_id, period, tuple(accepted), tuple(refused))


@dataclass(frozen=True)
class Coverage:
    """How far certificates cover a consumption [MWh]."""

    consumption_mwh: float
    certificates_mwh: float
    covered_mwh: float
    uncovered_mwh: float
    excess_mwh: float

    @property
    def covered_share(self) -> float:
        """Covered share of the consumption (1.0 for zero consumption)."""
        return self.covered_mwh / self.consumption_mwh if self.consumption_mwh > 0 else 1.0


def coverage(consumption_mwh: float, certificates_mwh: float) -> Coverage:
    """Return how many MWh of ``consumption_mwh`` the certificates cover, and the excess.

    Raises
    ------
    ValidationError
        If either quantity is negative or not a number.
    """
    for name, v in (("consumption_mwh", consumption_mwh), ("certificates_mwh", certificates_mwh)):
        if not v >= 0.0:
            raise ValidationError(f"{name} = {v!r} must be >= 0")
    covered = min(consumption_mwh, certificates_mwh)
    return Coverage(
        consumption_mwh=consumption_mwh,
        certificates_mwh=certificates_mwh,
        covered_mwh=covered,
        uncovered_mwh=consumption_mwh - covered,
        excess_mwh=certificates_mwh - covered,
    )
