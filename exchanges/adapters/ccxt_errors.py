"""ccxt's exceptions -> ours. The order matters: the most specific ccxt class first."""

from __future__ import annotations

import re

import aiohttp
import ccxt

from exchanges.adapters import errors
from exchanges.redaction import redact

# (ccxt class, our class). ccxt's hierarchy: NetworkError > (RequestTimeout,
# ExchangeNotAvailable > OnMaintenance, DDoSProtection > RateLimitExceeded, InvalidNonce);
# ExchangeError > (AuthenticationError > PermissionDenied > AccountSuspended,
# InsufficientFunds, InvalidOrder > OrderNotFound ..., BadRequest > BadSymbol, NotSupported).
MAPPING: tuple[tuple[type[Exception], type[errors.ExchangeError]], ...] = (
    (ccxt.RateLimitExceeded, errors.RateLimited),
    (ccxt.DDoSProtection, errors.RateLimited),
    (ccxt.InvalidNonce, errors.ClockSkew),
    (ccxt.OnMaintenance, errors.ExchangeMaintenance),
    (ccxt.ExchangeNotAvailable, errors.ExchangeUnavailable),
    (ccxt.RequestTimeout, errors.ExchangeTimeout),
    (ccxt.NetworkError, errors.ExchangeConnectionError),
    (ccxt.AuthenticationError, errors.AuthenticationFailed),  # PermissionDenied, AccountSuspended too
    (ccxt.AccountNotEnabled, errors.AuthenticationFailed),
    (ccxt.InsufficientFunds, errors.InsufficientFunds),
    (ccxt.OrderNotFound, errors.OrderNotFound),
    (ccxt.DuplicateOrderId, errors.DuplicateOrder),
    (ccxt.InvalidOrder, errors.InvalidOrder),
    (ccxt.BadSymbol, errors.BadSymbol),
    (ccxt.NotSupported, errors.NotSupported),
    (ccxt.ArgumentsRequired, errors.InvalidOrder),
    (ccxt.BadRequest, errors.InvalidOrder),
    (ccxt.ExchangeError, errors.ExchangeError),
)

_URL_QUERY = re.compile(r"(https?://[^\s?\"']+)\?[^\s\"']*")
_MAX_MESSAGE = 300


def clean_message(exc: Exception, *, exchange_id: str, secrets: list[str]) -> str:
    """The exchange's reason, without query strings (signatures), secrets or the id prefix."""
    text = str(exc) or type(exc).__name__
    if text.startswith(exchange_id + " "):
        text = text[len(exchange_id) + 1 :]
    text = _URL_QUERY.sub(r"\1?…", text)
    text = redact(text, extra=secrets)
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def retry_after(headers) -> float | None:
    if not headers:
        return None
    value = next((v for k, v in dict(headers).items() if k.lower() == "retry-after"), None)
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def translate(
    exc: Exception,
    *,
    exchange_id: str,
    secrets: list[str],
    headers=None,
    duplicate_order_messages: tuple[str, ...] = (),
) -> errors.ExchangeError:
    ours = next((mine for theirs, mine in MAPPING if isinstance(exc, theirs)), errors.ExchangeError)
    if ours is errors.ExchangeUnavailable and isinstance(exc.__context__, aiohttp.ClientConnectionError):
        # ccxt reports "could not connect" as ExchangeNotAvailable; failover needs to know
        # that no answer came at all, and whether the request left (refused) or not (dropped).
        connect_failed = isinstance(exc.__context__, aiohttp.ClientConnectorError)
        ours = errors.ExchangeUnreachable if connect_failed else errors.ExchangeConnectionError
    if ours is errors.InvalidOrder and any(text in str(exc) for text in duplicate_order_messages):
        ours = errors.DuplicateOrder  # e.g. Binance's -2010 "Duplicate order sent."
    message = clean_message(exc, exchange_id=exchange_id, secrets=secrets)
    wait = retry_after(headers) if ours is errors.RateLimited else None
    return ours(message, exchange=exchange_id, retry_after=wait)
