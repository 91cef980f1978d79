"""Every ccxt error maps to our hierarchy, temporary or permanent, with a clean message."""

import ccxt
import pytest

from exchanges.adapters import errors
from exchanges.adapters.ccxt_errors import translate

CASES = [
    (ccxt.RateLimitExceeded, errors.RateLimited, True),
    (ccxt.DDoSProtection, errors.RateLimited, True),
    (ccxt.InvalidNonce, errors.ClockSkew, True),
    (ccxt.OnMaintenance, errors.ExchangeMaintenance, True),
    (ccxt.ExchangeNotAvailable, errors.ExchangeUnavailable, True),
    (ccxt.RequestTimeout, errors.ExchangeTimeout, True),
    (ccxt.NetworkError, errors.ExchangeConnectionError, True),
    (ccxt.AuthenticationError, errors.AuthenticationFailed, False),
    (ccxt.PermissionDenied, errors.AuthenticationFailed, False),
    (ccxt.AccountSuspended, errors.AuthenticationFailed, False),
    (ccxt.InsufficientFunds, errors.InsufficientFunds, False),
    (ccxt.OrderNotFound, errors.OrderNotFound, False),
    (ccxt.InvalidOrder, errors.InvalidOrder, False),
    (ccxt.BadSymbol, errors.BadSymbol, False),
    (ccxt.NotSupported, errors.NotSupported, False),
    (ccxt.BadRequest, errors.InvalidOrder, False),
    (ccxt.ExchangeError, errors.ExchangeError, False),
]


@pytest.mark.parametrize("theirs, ours, temporary", CASES, ids=[c[0].__name__ for c in CASES])
def test_mapping(theirs, ours, temporary):
    mapped = translate(theirs("binance boom"), exchange_id="binance", secrets=[])
    assert type(mapped) is ours
    assert mapped.temporary is temporary
    assert str(mapped) == "binance: boom"


def test_retry_after_is_kept_for_rate_limits():
    mapped = translate(ccxt.RateLimitExceeded("x"), exchange_id="okx", secrets=[], headers={"Retry-After": "7"})
    assert mapped.retry_after == 7.0


def test_messages_lose_signatures_and_secrets():
    text = (
        "binance GET https://api.binance.com/api/v3/account?timestamp=1&signature=abcdef0123456789 "
        '{"code":-2015,"msg":"Invalid API-key MYSECRETKEY123"}'
    )
    mapped = translate(ccxt.AuthenticationError(text), exchange_id="binance", secrets=["MYSECRETKEY123"])
    assert "abcdef0123456789" not in str(mapped)
    assert "MYSECRETKEY123" not in str(mapped)
    assert "https://api.binance.com/api/v3/account?…" in str(mapped)
    assert "Invalid API-key" in str(mapped)
