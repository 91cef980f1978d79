"""The platform's exchange errors. Routing, retry and failover decide only on these.

``temporary`` errors may succeed if retried later (network, rate limit, maintenance);
``permanent`` ones will not (bad keys, insufficient funds, invalid order). Messages
never contain a secret: adapters build them from the exchange's reason, redacted.
"""

from __future__ import annotations


class ExchangeError(Exception):
    """Anything an exchange refused or failed to do."""

    temporary = False
    code = "exchange_error"
    #: the request may have reached the exchange and been carried out although no answer
    #: came (timeouts, dropped connections, 5xx): an order send then needs a lookup by
    #: client order id before anything is retried
    may_have_executed = False

    def __init__(self, message: str = "", *, exchange: str = "", retry_after: float | None = None):
        self.exchange = exchange
        self.retry_after = retry_after
        super().__init__(f"{exchange}: {message}" if exchange and message else message or exchange)


class ExchangeConnectionError(ExchangeError):
    """The request did not get an answer (DNS, refused, reset). Temporary."""

    temporary = True
    code = "connection"
    may_have_executed = True


class ExchangeUnreachable(ExchangeConnectionError):
    """No connection could be opened (refused, DNS): the request never left. Temporary."""

    code = "unreachable"
    may_have_executed = False


class ExchangeTimeout(ExchangeConnectionError):
    """No answer in time: the request may or may not have been executed."""

    code = "timeout"


class ExchangeUnavailable(ExchangeError):
    """5xx, overloaded. Temporary. Binance's docs: a 5xx means the outcome is unknown."""

    temporary = True
    code = "unavailable"
    may_have_executed = True


class ExchangeMaintenance(ExchangeUnavailable):
    """The exchange says it is under maintenance: it did not take the request. Temporary."""

    code = "maintenance"
    may_have_executed = False


class RateLimited(ExchangeError):
    """429/418 or the exchange's own rate-limit code. ``retry_after`` in seconds when known."""

    temporary = True
    code = "rate_limit"


class ClockSkew(ExchangeError):
    """The exchange refused our timestamp or nonce (recvWindow, skewed clock). Temporary."""

    temporary = True
    code = "clock_skew"


class AuthenticationFailed(ExchangeError):
    """Wrong key, wrong secret, wrong signature, missing permission. Permanent."""

    code = "authentication"


class InsufficientFunds(ExchangeError):
    code = "insufficient_funds"


class InvalidOrder(ExchangeError):
    """Below the minimum, bad precision, unsupported type, bad arguments. Permanent."""

    code = "invalid_order"


class DuplicateOrder(InvalidOrder):
    """The exchange already has an order with this client order id: the send did happen."""

    code = "duplicate_order"


class OrderNotFound(ExchangeError):
    code = "order_not_found"


class BadSymbol(ExchangeError):
    """The exchange does not list that market."""

    code = "bad_symbol"


class NotSupported(ExchangeError):
    """The exchange (or its adapter) does not offer that operation."""

    code = "not_supported"


ERROR_CODES = {cls.code: cls for cls in ExchangeError.__subclasses__()} | {
    cls.code: cls for cls in (ExchangeError, ExchangeTimeout, ExchangeUnreachable, ExchangeMaintenance, DuplicateOrder)
}
