"""Unified social credit codes, GB 32100-2015 (check character, code set, length)."""

from __future__ import annotations

import pytest

from lingtan.errors import ValidationError
from lingtan.uscc import check_character, validate_uscc


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the sample code quoted with GB 32100-2015
        "91110000600037341L",  # a code printed on a published business licence
    ],
)
def test_published_codes_validate(code: str) -> None:
    assert validate_uscc(code.lower()) == code


def test_check_character_by_hand() -> None:
    # 91350100M000100Y4: values 9,1,3,5,0,1,0,0,21(M),0,0,0,1,0,0,30(Y),4
    # weights 3^i mod 31: 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28
    # sum = 9+3+27+135+0+26+0+0+420+0+0+0+8+0+0+900+112 = 1640; 1640 mod 31 = 28; 31-28 = 3
    assert check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "has 17 characters, not 18"),
        ("91350100I000100Y43", "character 'I' is not in the GB 32100 code set"),
        ("91350100M000100Y42", "check character is '2', expected '3'"),
    ],
)
def test_bad_codes_name_the_reason(code: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        validate_uscc(code)
