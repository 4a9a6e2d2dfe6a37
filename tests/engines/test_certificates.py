"""Green certificate rules.  1 certificate = 1000 kWh (发改能源〔2023〕1044号); codes are 32
digits; default claim window = same calendar year as the claimed period."""

from __future__ import annotations

import pytest

from lingtan.engines.accounting import Period
from lingtan.engines.certificates import (
    ClaimPolicy,
    GreenCertificate,
    check_claim_window,
    coverage,
    plan_retirement,
    validate_certificate_code,
)
from lingtan.errors import ValidationError

CODE = "1" * 32


def cert(
    n: int, year: int = 2023, month: int = 6, tradable: bool = True, holder: str = ""
) -> GreenCertificate:
    return GreenCertificate(
        code=f"{n:032d}", vintage_year=year, vintage_month=month, plant_id="P1",
        technology="solar", tradable=tradable, holder_id=holder,
    )  # fmt: skip


@pytest.mark.parametrize("bad", ["1" * 31, "1" * 33, "1" * 31 + "A", "１" * 32, ""])
def test_code_must_be_32_ascii_digits(bad: str) -> None:
    with pytest.raises(ValidationError, match="32 digits"):
        validate_certificate_code(bad)


def test_valid_code_passes() -> None:
    assert validate_certificate_code(CODE) == CODE
    assert cert(7).mwh == 1.0  # 1000 kWh


def test_same_calendar_year_window() -> None:
    assert check_claim_window(cert(1, 2023, 1), Period(2023, 12)).ok
    late = check_claim_window(cert(1, 2022, 12), Period(2023, 1))
    assert not late.ok and "same calendar year" in late.reason


def test_rolling_window_boundaries() -> None:
    # period 2023-03; window 2 months before .. 1 month after -> 2023-01 .. 2023-04 inclusive
    policy = ClaimPolicy(window="rolling_months", months_before=2, months_after=1)
    p = Period(2023, 3)
    assert check_claim_window(cert(1, 2023, 1), p, policy).ok
    assert check_claim_window(cert(1, 2023, 4), p, policy).ok
    assert not check_claim_window(cert(1, 2022, 12), p, policy).ok
    assert not check_claim_window(cert(1, 2023, 5), p, policy).ok


def test_plan_refuses_retired_duplicate_out_of_window_and_foreign_non_tradable() -> None:
    offered = [
        cert(1),  # accepted
        cert(2),  # retired before
        cert(1),  # listed twice
        cert(3, year=2022),  # out of window
        cert(4, tradable=False, holder="OTHER"),  # not tradable, other holder
        cert(5, tradable=False, holder="E1"),  # not tradable, own -> accepted
    ]
    plan = plan_retirement(offered, "E1", Period(2023), already_retired=[f"{2:032d}"])
    assert [c.code for c in plan.accepted] == [f"{1:032d}", f"{5:032d}"]
    reasons = {r.code[-1]: r.reason for r in plan.refused}
    assert "already retired" in reasons["2"]
    assert "twice" in reasons["1"]
    assert "outside the claim window" in reasons["3"]
    assert "not tradable" in reasons["4"]
    assert plan.accepted_mwh == 2.0


def test_coverage_of_consumption() -> None:
    # 1 000 MWh consumed, 1 200 certificates: 1 000 covered, 200 excess
    c = coverage(1_000.0, 1_200.0)
    assert (c.covered_mwh, c.uncovered_mwh, c.excess_mwh, c.covered_share) == (
        1000.0,
        0.0,
        200.0,
        1.0,
    )
    # 1 000 MWh consumed, 250 certificates: 25 % covered
    c2 = coverage(1_000.0, 250.0)
    assert (c2.uncovered_mwh, c2.covered_share) == (750.0, 0.25)
    with pytest.raises(ValidationError):
        coverage(-1.0, 0.0)
