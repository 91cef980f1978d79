"""Amounts and prices truncated to a market's precision: the one place it happens.

Truncation (toward zero), never rounding: rounding up could spend more than the balance
or cross a limit price the user chose.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext

MONEY_DIGITS = 38
MONEY_DECIMALS = 18
EXACT_DIGITS = 80  # a product of two 38-digit numbers stays exact until the one rounding
_MONEY_STEP = Decimal(1).scaleb(-MONEY_DECIMALS)


def truncate(value: Decimal, step: Decimal | None) -> Decimal:
    """``value`` cut down to a multiple of ``step`` (e.g. 0.123456 with 0.001 -> 0.123)."""
    value = Decimal(value)
    if not step:
        return value
    step = Decimal(step)
    with localcontext(prec=EXACT_DIGITS):  # the default 28 digits would refuse 1e20 at a 1e-8 step
        units = (value / step).to_integral_value(rounding=ROUND_DOWN)
        return (units * step).quantize(step) if step.as_tuple().exponent < 0 else units * step


def money(value: Decimal) -> Decimal:
    """``value`` at the database's 18 decimals (half-even), exact for any 38-digit amount."""
    with localcontext(prec=EXACT_DIGITS):
        return Decimal(value).quantize(_MONEY_STEP)


def to_decimal(value) -> Decimal | None:
    """A number from an exchange (str, int, float) as Decimal; floats through their repr."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))
