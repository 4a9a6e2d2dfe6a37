"""Unified social credit code (统一社会信用代码), GB 32100-2015.

The code has 18 characters: registration authority (1), entity type (1), administrative
division (6), organisation code (9, itself ending in a GB 11714 check character) and a check
character computed over the first 17 with weights 3^(i) mod 31 (GB 32100-2015, clause 5 and
appendix B).
"""

from __future__ import annotations

from lingtan.errors import ValidationError

# GB 32100-2015 table 1: the 31 code characters (no I, O, S, V, Z) and their values 0..30.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Weights W_i = 3^(i-1) mod 31 for positions 1..17 (GB 32100-2015 appendix B).
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code.

    Parameters
    ----------
    first17 : str
        The 17 leading characters, from :data:`ALPHABET`.

    Returns
    -------
    str
        The 18th character: ``ALPHABET[31 - (sum(value * weight) mod 31)]``, with 31 read as 0.
    """
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return ``code`` upper-cased if it is a valid unified social credit code.

    Raises
    ------
    ValidationError
        With the reason: wrong length, a character outside the code set, or a wrong check
        character (the message gives the expected one).
    """
    code = code.strip().upper()
    if len(code) != 18:
        raise ValidationError(
            f"unified social credit code {code!r}: has {len(code)} characters, not 18"
        )
    bad = [c for c in code if c not in _VALUE]
    if bad:
        raise ValidationError(
            f"unified social credit code {code!r}: character {bad[0]!r} is not in the GB 32100 code set"
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(
            f"unified social credit code {code!r}: check character is {code[17]!r}, expected {expected!r}"
        )
    return code
