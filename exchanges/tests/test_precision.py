"""The one truncation helper and the one rounding to stored money, at the sizes a 38-digit,
18-decimal column holds (Python's default 28 digits of precision would refuse them)."""

from decimal import Decimal as D

import pytest

from exchanges.precision import money, truncate


@pytest.mark.parametrize(
    ("value", "step", "expected"),
    [
        ("0.123456", "0.001", "0.123"),
        ("-0.123456", "0.001", "-0.123"),  # toward zero, never away
        ("1234.5", "10", "1230"),
        ("12345678901234567890.123456789", "0.00000001", "12345678901234567890.12345678"),
        ("5", None, "5"),
    ],
)
def test_truncate_cuts_toward_zero_to_the_step(value, step, expected):
    assert truncate(D(value), D(step) if step else None) == D(expected)


def test_money_keeps_18_decimals_of_a_20_digit_amount():
    assert str(money(D("12345678901.1234567891234567891"))) == "12345678901.123456789123456789"
    assert str(money(D("99999999999999999999.999999999999999999"))) == "99999999999999999999.999999999999999999"
    assert money(D(1) / D(3)) == D("0.333333333333333333")


def test_a_fill_above_ten_billion_moves_the_position_exactly():
    from trading.services.positions import apply_fill

    quantity, average, realized = apply_fill(D("1"), D("20000000000.5"), D("1"), D("30000000000.25"))
    assert (quantity, average, realized) == (D(2), D("25000000000.375"), D(0))
    quantity, average, realized = apply_fill(quantity, average, D("-1"), D("26000000000"))
    assert (quantity, realized) == (D(1), D("999999999.625"))
