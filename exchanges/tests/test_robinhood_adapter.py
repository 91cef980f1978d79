"""The Robinhood adapter against a small in-process Robinhood: signed requests, docs-shaped answers.

The fake server checks every request's Ed25519 signature with the PUBLIC key only, and
answers with the shapes of the official examples (docs.robinhood.com/crypto/trading):
pagination through full ``next`` URLs on trading.robinhood.com, market data as JSON
numbers, trading pairs and executions as strings, errors as
``{"type": ..., "errors": [{"detail": ..., "attr": ...}]}``.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import re
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from exchanges.adapters.errors import (
    AuthenticationFailed,
    BadSymbol,
    ExchangeConnectionError,
    ExchangeError,
    ExchangeTimeout,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    NotSupported,
    OrderNotFound,
    RateLimited,
)
from exchanges.adapters.registry import get_registration
from exchanges.adapters.robinhood import RobinhoodAdapter
from exchanges.adapters.robinhood_signing import RequestSigner, public_key_b64, verify_signature
from exchanges.adapters.types import Credentials, OrderStatus, OrderType, Side

API_KEY = "rh-api-6f1d2c3b-0000-4c1e-9a77-123456789abc"
_PRIVATE = Ed25519PrivateKey.generate()
PRIVATE_B64 = base64.b64encode(_PRIVATE.private_bytes_raw()).decode()
PUBLIC_B64 = base64.b64encode(_PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()

ORDERS = "/api/v1/crypto/trading/orders/"


def oid(n: int) -> str:
    return str(uuid.UUID(int=n))


# --- the fake exchange ---------------------------------------------------------------
@dataclass
class Recorded:
    method: str
    path: str  # with the query string, as sent
    body: str
    headers: dict


@dataclass
class FakeRobinhood:
    public_key: str = PUBLIC_B64
    api_key: str = API_KEY
    page_size: int = 2
    requests: list[Recorded] = field(default_factory=list)
    failures: dict[str, list[web.Response]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    account: dict = field(
        default_factory=lambda: {
            "account_number": "RH0012345",
            "status": "active",
            "buying_power": "1000.5000",
            "buying_power_currency": "USD",
        }
    )
    pairs: list[dict] = field(
        default_factory=lambda: [
            _pair("BTC", "0.010000000000000000", "0.000000010000000000", "0.000001000000000000", "20.0000000000"),
            _pair("ETH", "0.010000000000000000", "0.000001000000000000", "0.000100000000000000", "500.000000000"),
            _pair("DOGE", "0.000001000000000000", "1.000000000000000000", "1.000000000000000000", "5000000.0000"),
        ]
    )
    holdings: list[dict] = field(
        default_factory=lambda: [
            {
                "account_number": "RH0012345",
                "asset_code": "BTC",
                "total_quantity": 0.5,
                "quantity_available_for_trading": 0.4,
            },
            {
                "account_number": "RH0012345",
                "asset_code": "ETH",
                "total_quantity": 2,
                "quantity_available_for_trading": 2,
            },
            {
                "account_number": "RH0012345",
                "asset_code": "DOGE",
                "total_quantity": 0,
                "quantity_available_for_trading": 0,
            },
        ]
    )
    quotes: dict[str, dict] = field(
        default_factory=lambda: {
            "BTC-USD": _quote("BTC-USD", 67150.35, 66889.05, 67411.65),
            "ETH-USD": _quote("ETH-USD", 3120.5, 3108.32, 3132.68),
            # more digits than a float holds, sent as a JSON number
            "DOGE-USD": _quote("DOGE-USD", Decimal("0.1530000000000000000123"), 0.15241, 0.15359),
        }
    )
    orders: dict[str, dict] = field(default_factory=lambda: {o["id"]: o for o in _seed_orders()})

    def fail(self, path: str, status: int, body: dict | str, *, headers: dict | None = None) -> None:
        """The next request to ``path`` gets this answer (after its signature was checked)."""
        if isinstance(body, dict):
            response = json_response(body, status=status, headers=headers)
        else:
            response = web.Response(status=status, text=body, headers=headers)
        self.failures.setdefault(path, []).append(response)

    def sent(self, method: str, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/api/v1/crypto/trading/accounts/", self._account)
        app.router.add_get("/api/v1/crypto/trading/trading_pairs/", self._pairs)
        app.router.add_get("/api/v1/crypto/trading/holdings/", self._holdings)
        app.router.add_get("/api/v1/crypto/marketdata/best_bid_ask/", self._best_bid_ask)
        app.router.add_get(ORDERS, self._list_orders)
        app.router.add_post(ORDERS, self._place_order)
        app.router.add_get(ORDERS + "{id}/", self._get_order)
        app.router.add_post(ORDERS + "{id}/cancel/", self._cancel_order)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        body = await request.text()
        self.requests.append(Recorded(request.method, request.raw_path, body, dict(request.headers)))
        key, ts, sig = (request.headers.get(h) for h in ("x-api-key", "x-timestamp", "x-signature"))
        if not (key and ts and sig):
            return web.Response(
                status=400,
                text="Request missing required headers. Required headers: x-api-key, x-signature, x-timestamp. "
                "Please refer to API documentation for more information.",
            )
        valid = (
            key == self.api_key
            and ts.isdigit()
            and abs(int(ts) - time.time()) <= 30
            and verify_signature(
                public_key_b64=self.public_key,
                api_key=key,
                timestamp=ts,
                path=request.raw_path,
                method=request.method,
                body=body,
                signature_b64=sig,
            )
        )
        if not valid:
            return _error(401, "Invalid API key or signature.", "client_error")
        if request.path in self.delays:
            await asyncio.sleep(self.delays[request.path])
        if self.failures.get(request.path):
            return self.failures[request.path].pop(0)
        return await handler(request)

    def _page(self, request: web.Request, rows: list) -> web.Response:
        start = int(request.query.get("cursor", "0"))
        end = start + self.page_size
        others = [(k, v) for k, v in request.query.items() if k != "cursor"]

        def link(cursor: int) -> str:
            return f"https://trading.robinhood.com{request.path}?{urlencode([*others, ('cursor', cursor)])}"

        return json_response(
            {
                "next": link(end) if end < len(rows) else None,
                "previous": link(max(start - self.page_size, 0)) if start else None,
                "results": rows[start:end],
            }
        )

    async def _account(self, request):
        return json_response(self.account)

    async def _pairs(self, request):
        symbols = request.query.getall("symbol", [])
        return self._page(request, [p for p in self.pairs if not symbols or p["symbol"] in symbols])

    async def _holdings(self, request):
        return self._page(request, self.holdings)

    async def _best_bid_ask(self, request):
        symbols = request.query.getall("symbol", [])
        unknown = [s for s in symbols if s not in self.quotes]
        if unknown:
            return _error(400, f"Invalid symbol: {unknown[0]}.", attr="symbol")
        return json_response({"results": [self.quotes[s] for s in symbols or self.quotes]})

    async def _list_orders(self, request):
        q = request.query
        rows = sorted(self.orders.values(), key=lambda o: o["created_at"], reverse=True)
        if "state" in q:
            rows = [o for o in rows if o["state"] == q["state"]]
        if "symbol" in q:
            rows = [o for o in rows if o["symbol"] == q["symbol"]]
        for param, key in (("created_at_start", "created_at"), ("updated_at_start", "updated_at")):
            if param in q:
                rows = [o for o in rows if _dt(o[key]) >= _dt(q[param])]
        return self._page(request, rows)

    async def _get_order(self, request):
        order = self.orders.get(request.match_info["id"])
        return json_response(order) if order else _error(404, "Not found.")

    async def _cancel_order(self, request):
        order = self.orders.get(request.match_info["id"])
        if order is None:
            return _error(404, "Not found.")
        if order["state"] not in ("open", "partially_filled"):
            return _error(400, "Order cannot be canceled in its current state.")
        order["state"] = "canceled"
        return web.Response(text=f"Cancel request has been submitted for order {order['id']}")

    async def _place_order(self, request):
        data = json.loads(await request.text())
        if not data.get("client_order_id"):
            return _error(400, "This field is required.", attr="client_order_id")
        existing = [o for o in self.orders.values() if o["client_order_id"] == data["client_order_id"]]
        if existing:  # Robinhood's idempotency: the same client order id answers the same order
            return json_response(existing[0], status=201)
        if data.get("symbol") not in self.quotes:
            return _error(400, "Invalid symbol.", attr="symbol")
        config_key = f"{data['type']}_order_config"
        config = data.get(config_key) or {}
        quantity = Decimal(config.get("asset_quantity", "0"))
        quote = self.quotes[data["symbol"]]
        if data["side"] == "buy":
            cost = quantity * Decimal(str(quote["ask_inclusive_of_buy_spread"]))
            if cost > Decimal(self.account["buying_power"]):
                return _error(400, "Insufficient buying power.")
        else:
            asset = data["symbol"].split("-")[0]
            held = next((h for h in self.holdings if h["asset_code"] == asset), None)
            if held is None or quantity > Decimal(str(held["quantity_available_for_trading"])):
                return _error(400, f"Not enough {asset} holdings available for trading.", attr="asset_quantity")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        order = {
            "id": str(uuid.uuid4()),
            "account_number": self.account["account_number"],
            "symbol": data["symbol"],
            "client_order_id": data["client_order_id"],
            "side": data["side"],
            "executions": [],
            "type": data["type"],
            "state": "open",
            "average_price": None,
            "filled_asset_quantity": 0,
            "created_at": now,
            "updated_at": now,
            config_key: config,
        }
        if data["type"] == "market":
            price = quote["ask_inclusive_of_buy_spread" if data["side"] == "buy" else "bid_inclusive_of_sell_spread"]
            order |= {
                "state": "filled",
                "average_price": price,
                "filled_asset_quantity": float(quantity),
                "executions": [{"effective_price": str(price), "quantity": str(quantity), "timestamp": now}],
            }
        self.orders[order["id"]] = order
        return json_response(order, status=201)


def _pair(asset: str, quote_inc: str, asset_inc: str, min_size: str, max_size: str) -> dict:
    return {
        "asset_code": asset,
        "quote_code": "USD",
        "quote_increment": quote_inc,
        "asset_increment": asset_inc,
        "max_order_size": max_size,
        "min_order_size": min_size,
        "status": "tradable",
        "symbol": f"{asset}-USD",
    }


def _quote(symbol: str, price, bid: float, ask: float) -> dict:
    return {
        "symbol": symbol,
        "price": price,
        "bid_inclusive_of_sell_spread": bid,
        "sell_spread": 0.00389,
        "ask_inclusive_of_buy_spread": ask,
        "buy_spread": 0.00389,
        "timestamp": "2024-04-22T18:46:59.123456-04:00",
    }


def _order(n, symbol, side, rh_type, state, config, created, *, executions=(), filled=0, average=None, updated=None):
    return {
        "id": oid(n),
        "account_number": "RH0012345",
        "symbol": symbol,
        "client_order_id": f"c-{state}",
        "side": side,
        "executions": [{"effective_price": p, "quantity": q, "timestamp": t} for p, q, t in executions],
        "type": rh_type,
        "state": state,
        "average_price": average,
        "filled_asset_quantity": filled,
        "created_at": created,
        "updated_at": updated or created,
        f"{rh_type}_order_config": config,
    }


def _seed_orders() -> list[dict]:
    return [
        _order(
            1, "BTC-USD", "buy", "limit", "open",
            {"asset_quantity": "0.01", "limit_price": "60000.00", "time_in_force": "gtc"},
            "2024-05-01T10:00:00Z",
        ),
        _order(
            2, "ETH-USD", "sell", "limit", "partially_filled",
            {"asset_quantity": 1.0, "limit_price": 3500.0, "time_in_force": "gtc"},
            "2024-05-02T10:00:00Z",
            executions=[("3500.00", "0.4", "2024-05-02T10:05:00Z")], filled=0.4, average=3500.0,
            updated="2024-05-02T10:05:00Z",
        ),
        _order(
            3, "BTC-USD", "buy", "market", "filled", {"asset_quantity": "0.002"}, "2024-05-03T09:00:00Z",
            executions=[("64000.10", "0.0015", "2024-05-03T09:00:01Z"), ("64000.30", "0.0005", "2024-05-03T09:00:02Z")],
            filled=0.002, average=64000.15, updated="2024-05-03T09:00:02Z",
        ),
        _order(
            4, "BTC-USD", "sell", "stop_loss", "canceled",
            {"asset_quantity": "0.01", "stop_price": "50000.00", "time_in_force": "gtc"},
            "2024-05-04T09:00:00Z",
        ),
        _order(
            5, "DOGE-USD", "buy", "stop_limit", "failed",
            {"asset_quantity": "100", "limit_price": "0.2", "stop_price": "0.19", "time_in_force": "gfd"},
            "2024-05-05T09:00:00Z",
        ),
    ]  # fmt: skip


def _dumps(data) -> str:
    """JSON with Decimals written as JSON numbers, digit for digit (json.dumps would refuse them)."""
    text = json.dumps(data, default=lambda number: f"__number__:{number}")
    return re.sub(r'"__number__:([-0-9.eE+]+)"', r"\1", text)


def json_response(data, **kwargs) -> web.Response:
    return web.json_response(data, dumps=_dumps, **kwargs)


def _error(status: int, detail: str, kind: str = "validation_error", attr: str | None = None) -> web.Response:
    return json_response({"type": kind, "errors": [{"detail": detail, "attr": attr}]}, status=status)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _ms(text: str) -> int:
    return int(Decimal(str(_dt(text).timestamp())) * 1000)


# --- fixtures ------------------------------------------------------------------------
@pytest.fixture
async def fake():
    exchange = FakeRobinhood()
    server = TestServer(exchange.app())
    await server.start_server()
    exchange.url = str(server.make_url("/"))
    yield exchange
    await server.close()


@pytest.fixture
async def adapter(fake):
    robinhood = RobinhoodAdapter(
        Credentials(apiKey=API_KEY, privateKey=PRIVATE_B64), api_base_url=fake.url, options={"timeout": 2}
    )
    yield robinhood
    await robinhood.close()


def no_floats(value, where="result") -> None:
    """Fails on any float inside dataclasses, tuples, lists and dicts."""
    assert not isinstance(value, float), f"float at {where}: {value!r}"
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            no_floats(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            no_floats(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            no_floats(item, f"{where}[{index}]")


# --- (1) signing ---------------------------------------------------------------------
def test_signature_matches_the_official_docs_example():
    # The documented demo key pair and vector (docs.robinhood.com/crypto/trading, Authentication);
    # the docs signed the Python str() of the body dict.
    signer = RequestSigner(
        api_key="rh-api-6148effc-c0b1-486c-8940-a1d099456be6",
        private_key_b64="xQnTJVeQLmw1/Mg2YimEViSpw/SdJcgNXZ5kQkAXNPU=",
    )
    body = str(
        {
            "client_order_id": "131de903-5a9c-4260-abc1-28d562a5dcf0",
            "side": "buy",
            "symbol": "BTC-USD",
            "type": "market",
            "market_order_config": {"asset_quantity": "0.1"},
        }
    )
    headers = signer.headers(path="/api/v1/crypto/trading/orders/", method="POST", body=body, timestamp=1698708981)
    assert headers == {
        "x-api-key": "rh-api-6148effc-c0b1-486c-8940-a1d099456be6",
        "x-timestamp": "1698708981",
        "x-signature": "q/nEtxp/P2Or3hph3KejBqnw5o9qeuQ+hYRnB56FaHbjDsNUY9KhB1asMxohDnzdVFSD7StaTqjSd9U9HvaRAw==",
    }
    assert (
        public_key_b64("xQnTJVeQLmw1/Mg2YimEViSpw/SdJcgNXZ5kQkAXNPU=") == "jPItx4TLjcnSUnmnXQQyAKL4eJj3+oWNNMmmm2vATqk="
    )


def _public_key() -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64(PRIVATE_B64)))


def test_get_signature_verifies_with_the_public_key():
    path = "/api/v1/crypto/marketdata/best_bid_ask/?symbol=BTC-USD&symbol=ETH-USD"
    before = int(time.time())
    headers = RequestSigner(api_key=API_KEY, private_key_b64=PRIVATE_B64).headers(path=path, method="GET")

    assert headers["x-api-key"] == API_KEY
    assert headers["x-timestamp"].isdigit() and before <= int(headers["x-timestamp"]) <= time.time()
    message = f"{API_KEY}{headers['x-timestamp']}{path}GET".encode()  # empty body for a GET
    _public_key().verify(base64.b64decode(headers["x-signature"]), message)  # raises when wrong


def test_post_signature_covers_api_key_timestamp_path_method_and_exact_body():
    body = json.dumps({"client_order_id": "c-1", "side": "buy", "type": "market", "symbol": "BTC-USD"})
    signer = RequestSigner(api_key=API_KEY, private_key_b64=PRIVATE_B64)
    headers = signer.headers(path=ORDERS, method="post", body=body, timestamp=1700000000)
    signature = headers["x-signature"]

    _public_key().verify(base64.b64decode(signature), f"{API_KEY}1700000000{ORDERS}POST{body}".encode())
    check = {
        "public_key_b64": PUBLIC_B64,
        "api_key": API_KEY,
        "timestamp": 1700000000,
        "path": ORDERS,
        "method": "POST",
        "body": body,
    }
    assert verify_signature(**check, signature_b64=signature)
    for change in (
        {"body": body.replace("buy", "sell")},
        {"body": ""},
        {"path": ORDERS + "?x=1"},
        {"method": "GET"},
        {"timestamp": 1700000001},
        {"api_key": "rh-api-other"},
    ):
        assert not verify_signature(**(check | change), signature_b64=signature), change


@pytest.mark.parametrize("bad_key", ["not base64 at all!", base64.b64encode(b"short").decode(), ""])
def test_an_unusable_private_key_is_refused_without_repeating_it(bad_key):
    with pytest.raises(AuthenticationFailed) as caught:
        RequestSigner(api_key=API_KEY, private_key_b64=bad_key)
    assert bad_key not in str(caught.value) or not bad_key
    assert "privateKey" in str(caught.value)


def test_signer_and_credentials_never_show_the_keys():
    signer = RequestSigner(api_key=API_KEY, private_key_b64=PRIVATE_B64)
    credentials = Credentials(apiKey=API_KEY, privateKey=PRIVATE_B64)
    for text in (repr(signer), str(signer), repr(credentials), repr(RobinhoodAdapter(credentials))):
        assert API_KEY not in text and PRIVATE_B64 not in text


# --- (2) the adapter surface, end to end ----------------------------------------------
def test_registered_as_a_user_registers_a_custom_exchange():
    registration = get_registration("robinhood")
    assert registration.adapter_class is RobinhoodAdapter
    assert registration.name == "Robinhood" and registration.regions == ("us",)
    assert RobinhoodAdapter.required_credentials == ("apiKey", "privateKey")


async def test_every_request_goes_to_api_base_url_and_is_signed(adapter, fake):
    await adapter.load_markets()
    await adapter.fetch_ticker("BTC/USD")
    await adapter.create_order(symbol="BTC/USD", side=Side.BUY, type=OrderType.MARKET, amount=Decimal("0.001"))

    assert len(fake.requests) == 4  # 2 pages of trading pairs, 1 quote, 1 order
    for request in fake.requests:  # the server refused nothing
        assert verify_signature(
            public_key_b64=PUBLIC_B64,
            api_key=API_KEY,
            timestamp=request.headers["x-timestamp"],
            path=request.path,
            method=request.method,
            body=request.body,
            signature_b64=request.headers["x-signature"],
        )
    post = fake.sent("POST", ORDERS)[0]
    assert post.body.startswith("{") and post.headers["Content-Type"] == "application/json"


async def test_load_markets_follows_pagination_and_reads_precision(adapter, fake):
    markets = await adapter.load_markets()

    assert sorted(markets) == ["BTC/USD", "DOGE/USD", "ETH/USD"]
    btc = markets["BTC/USD"]
    assert (btc.id, btc.base, btc.quote, btc.type, btc.active) == ("BTC-USD", "BTC", "USD", "spot", True)
    assert btc.amount_precision == Decimal("0.00000001")
    assert btc.price_precision == Decimal("0.01")
    assert btc.min_amount == Decimal("0.000001")
    # two pages: the second one through the "next" link of trading.robinhood.com, re-based on our server
    assert [r.path for r in fake.requests] == [
        "/api/v1/crypto/trading/trading_pairs/",
        "/api/v1/crypto/trading/trading_pairs/?cursor=2",
    ]
    await adapter.load_markets()
    assert len(fake.requests) == 2  # loaded once and reused
    await adapter.load_markets(reload=True)
    assert len(fake.requests) == 4


def test_capabilities(adapter):
    caps = adapter.capabilities()
    assert caps.spot and caps.stop_loss and caps.fetch_tickers and caps.client_order_id
    assert not (caps.futures or caps.margin or caps.take_profit or caps.websocket or caps.advanced_orders)


@pytest.mark.parametrize("spelling", ["BTC/USD", "BTC-USD", "BTCUSD", "btc-usd"])
async def test_fetch_ticker_accepts_every_spelling_and_answers_unified(adapter, fake, spelling):
    ticker = await adapter.fetch_ticker(spelling)

    assert ticker.symbol == "BTC/USD" and ticker.exchange == "robinhood"
    assert ticker.price == Decimal("67150.35")
    assert ticker.bid == Decimal("66889.05")  # bid_inclusive_of_sell_spread
    assert ticker.ask == Decimal("67411.65")  # ask_inclusive_of_buy_spread
    assert ticker.volume is None
    assert ticker.timestamp == 1713826019123  # 2024-04-22T18:46:59.123456-04:00
    assert fake.requests[-1].path == "/api/v1/crypto/marketdata/best_bid_ask/?symbol=BTC-USD"


async def test_symbols_are_read_through_loaded_markets(adapter):
    await adapter.load_markets()
    assert adapter.normalize_symbol("DOGEUSD") == "DOGE/USD"
    assert adapter.exchange_symbol("eth/usd") == "ETH-USD"
    assert (await adapter.market("BTC-USD")).symbol == "BTC/USD"


async def test_fetch_tickers_is_one_request(adapter, fake):
    tickers = await adapter.fetch_tickers(["BTC/USD", "ETH-USD", "DOGEUSD"])

    assert set(tickers) == {"BTC/USD", "ETH/USD", "DOGE/USD"}
    assert tickers["DOGE/USD"].ask == Decimal("0.15359")
    assert [r.path for r in fake.requests] == [
        "/api/v1/crypto/marketdata/best_bid_ask/?symbol=BTC-USD&symbol=ETH-USD&symbol=DOGE-USD"
    ]


async def test_fetch_order_book_is_one_level_of_best_bid_and_ask(adapter):
    book = await adapter.fetch_order_book("BTC/USD")

    assert book.symbol == "BTC/USD"
    assert book.bids == ((Decimal("66889.05"), Decimal("20")),)  # max_order_size is the amount
    assert book.asks == ((Decimal("67411.65"), Decimal("20")),)
    assert book.timestamp == 1713826019123


async def test_fetch_balance_reads_buying_power_and_holdings(adapter, fake):
    balance = await adapter.fetch_balance()

    assert set(balance.assets) == {"USD", "BTC", "ETH"}  # DOGE holds 0: left out
    usd, btc, eth = balance.assets["USD"], balance.assets["BTC"], balance.assets["ETH"]
    assert (usd.free, usd.used, usd.total) == (Decimal("1000.5"), 0, Decimal("1000.5"))
    assert (btc.free, btc.used, btc.total) == (Decimal("0.4"), Decimal("0.1"), Decimal("0.5"))
    assert (eth.free, eth.used, eth.total) == (2, 0, 2)
    assert [r.path for r in fake.requests] == [
        "/api/v1/crypto/trading/accounts/",
        "/api/v1/crypto/trading/holdings/",
        "/api/v1/crypto/trading/holdings/?cursor=2",
    ]


@pytest.mark.parametrize(
    ("order_type", "kwargs", "rh_type", "config"),
    [
        (OrderType.MARKET, {}, "market", {"asset_quantity": "0.0015"}),
        (
            OrderType.LIMIT,
            {"price": Decimal("60000.10")},
            "limit",
            {"asset_quantity": "0.0015", "limit_price": "60000.1", "time_in_force": "gtc"},
        ),
        (
            OrderType.STOP,
            {"stop_price": Decimal("55000"), "time_in_force": "GFD"},
            "stop_loss",
            {"asset_quantity": "0.0015", "stop_price": "55000", "time_in_force": "gfd"},
        ),
        (
            OrderType.STOP_LIMIT,
            {"price": Decimal("54900.5"), "stop_price": Decimal("55000.00")},
            "stop_limit",
            {"asset_quantity": "0.0015", "limit_price": "54900.5", "stop_price": "55000", "time_in_force": "gtc"},
        ),
    ],
)
async def test_create_order_sends_robinhoods_order_config(adapter, fake, order_type, kwargs, rh_type, config):
    order = await adapter.create_order(
        symbol="BTC/USD", side=Side.BUY, type=order_type, amount=Decimal("0.00150"), **kwargs
    )

    sent = json.loads(fake.sent("POST", ORDERS)[0].body)
    assert sent == {
        "client_order_id": sent["client_order_id"],
        "side": "buy",
        "type": rh_type,
        "symbol": "BTC-USD",
        f"{rh_type}_order_config": config,
    }
    assert uuid.UUID(sent["client_order_id"]).version == 4  # generated when none is given
    assert order.client_order_id == sent["client_order_id"]
    assert order.type == order_type and order.symbol == "BTC/USD" and order.amount == Decimal("0.0015")
    assert order.price == kwargs.get("price") and order.stop_price == kwargs.get("stop_price")


async def test_a_market_order_reports_its_fill(adapter):
    order = await adapter.create_order(
        symbol="ETH-USD", side=Side.SELL, type=OrderType.MARKET, amount=Decimal("1.5"), client_order_id="c-mine"
    )

    assert order.status == OrderStatus.FILLED and order.side == Side.SELL
    assert (order.amount, order.filled, order.remaining) == (Decimal("1.5"), Decimal("1.5"), 0)
    assert order.average == Decimal("3108.32")  # bid_inclusive_of_sell_spread
    assert order.fees == ()  # Robinhood reports no fee: it is in the spread
    assert order.client_order_id == "c-mine" and order.id


async def test_client_order_id_is_sent_and_finds_the_order_again(adapter, fake):
    placed = await adapter.create_order(
        symbol="BTC/USD", side=Side.BUY, type=OrderType.LIMIT, amount=Decimal("0.01"), price=Decimal("50000"),
        client_order_id="7a7c0e9e-5e0b-4a55-9a3e-2f3d1c7b9e01",
    )  # fmt: skip
    assert json.loads(fake.sent("POST", ORDERS)[0].body)["client_order_id"] == "7a7c0e9e-5e0b-4a55-9a3e-2f3d1c7b9e01"

    found = await adapter.fetch_order(symbol="BTC/USD", client_order_id="7a7c0e9e-5e0b-4a55-9a3e-2f3d1c7b9e01")
    assert found == placed

    # the oldest BTC order sits on the second page of the BTC-USD listing: pagination is followed
    fake.requests.clear()
    oldest = await adapter.fetch_order(symbol="BTC/USD", client_order_id="c-open")
    assert oldest.id == oid(1)
    assert [r.path for r in fake.requests] == [ORDERS + "?symbol=BTC-USD", ORDERS + "?symbol=BTC-USD&cursor=2"]

    with pytest.raises(OrderNotFound):
        await adapter.fetch_order(symbol="BTC/USD", client_order_id="never-placed")


@pytest.mark.parametrize(
    ("n", "status", "order_type"),
    [
        (1, OrderStatus.OPEN, OrderType.LIMIT),
        (2, OrderStatus.PARTIALLY_FILLED, OrderType.LIMIT),
        (3, OrderStatus.FILLED, OrderType.MARKET),
        (4, OrderStatus.CANCELED, OrderType.STOP),
        (5, OrderStatus.REJECTED, OrderType.STOP_LIMIT),  # failed
    ],
)
async def test_fetch_order_by_id_maps_state_and_type(adapter, fake, n, status, order_type):
    order = await adapter.fetch_order(symbol="", order_id=oid(n))

    assert (order.status, order.type) == (status, order_type)
    assert fake.requests[-1].path == f"{ORDERS}{oid(n)}/"


async def test_fetch_order_reads_fills_average_and_prices(adapter):
    partial = await adapter.fetch_order(symbol="ETH/USD", order_id=oid(2))
    assert (partial.amount, partial.filled, partial.remaining) == (Decimal("1.0"), Decimal("0.4"), Decimal("0.6"))
    assert partial.price == Decimal("3500.0") and partial.average == Decimal("3500.0")
    assert partial.timestamp == _ms("2024-05-02T10:00:00Z")

    stop_limit = await adapter.fetch_order(symbol="DOGE/USD", order_id=oid(5))
    assert (stop_limit.price, stop_limit.stop_price) == (Decimal("0.2"), Decimal("0.19"))
    assert stop_limit.filled == 0 and stop_limit.average is None


async def test_cancel_order_posts_cancel_then_reads_the_order(adapter, fake):
    order = await adapter.cancel_order(symbol="BTC/USD", order_id=oid(1))

    assert order.status == OrderStatus.CANCELED and order.id == oid(1)
    assert [(r.method, r.path, r.body) for r in fake.requests] == [
        ("POST", f"{ORDERS}{oid(1)}/cancel/", ""),
        ("GET", f"{ORDERS}{oid(1)}/", ""),
    ]


async def test_cancelling_a_finished_order_returns_it_as_it_is(adapter):
    order = await adapter.cancel_order(symbol="BTC/USD", order_id=oid(3))
    assert order.status == OrderStatus.FILLED


async def test_fetch_open_orders_lists_open_and_partially_filled(adapter, fake):
    orders = await adapter.fetch_open_orders()

    assert [(o.id, o.status) for o in orders] == [
        (oid(1), OrderStatus.OPEN),
        (oid(2), OrderStatus.PARTIALLY_FILLED),
    ]
    assert [r.path for r in fake.requests] == [ORDERS + "?state=open", ORDERS + "?state=partially_filled"]
    assert [o.id for o in await adapter.fetch_open_orders("ETH/USD")] == [oid(2)]


async def test_fetch_closed_orders(adapter, fake):
    orders = await adapter.fetch_closed_orders()
    assert [(o.id, o.status) for o in orders] == [
        (oid(3), OrderStatus.FILLED),
        (oid(4), OrderStatus.CANCELED),
        (oid(5), OrderStatus.REJECTED),
    ]
    since = _ms("2024-05-04T00:00:00Z")
    assert [o.id for o in await adapter.fetch_closed_orders(since=since)] == [oid(4), oid(5)]
    assert fake.requests[-1].path == ORDERS + "?created_at_start=2024-05-04T00:00:00Z"


async def test_fetch_my_trades_are_the_executions(adapter, fake):
    trades = await adapter.fetch_my_trades()
    assert [(t.order_id, t.side, t.amount, t.price, t.symbol) for t in trades] == [
        (oid(2), Side.SELL, Decimal("0.4"), Decimal("3500.00"), "ETH/USD"),
        (oid(3), Side.BUY, Decimal("0.0015"), Decimal("64000.10"), "BTC/USD"),
        (oid(3), Side.BUY, Decimal("0.0005"), Decimal("64000.30"), "BTC/USD"),
    ]
    assert [t.id for t in trades] == [f"{oid(2)}-0", f"{oid(3)}-0", f"{oid(3)}-1"]
    assert all(t.fee is None for t in trades)

    since = _ms("2024-05-03T09:00:01.500000Z")
    later = await adapter.fetch_my_trades("BTC/USD", since=since)
    assert [(t.id, t.timestamp) for t in later] == [(f"{oid(3)}-1", _ms("2024-05-03T09:00:02Z"))]
    assert fake.requests[-1].path == ORDERS + "?symbol=BTC-USD&updated_at_start=2024-05-03T09:00:01Z"


async def test_spot_only_no_positions_no_leverage(adapter, fake):
    assert await adapter.fetch_positions() == []
    with pytest.raises(NotSupported):
        await adapter.set_leverage(symbol="BTC/USD", leverage=2)
    assert fake.requests == []


async def test_test_connection_calls_accounts(adapter, fake):
    result = await adapter.test_connection()
    assert result.ok and result.error is None and result.latency_ms is not None
    assert [r.path for r in fake.requests] == ["/api/v1/crypto/trading/accounts/"]

    fake.public_key = public_key_b64(base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode())
    result = await adapter.test_connection()
    assert not result.ok and result.error_code == "authentication"
    assert "Invalid API key or signature" in result.error


async def test_one_session_reused_until_closed(adapter):
    await adapter.fetch_ticker("BTC/USD")
    session = adapter._session
    await adapter.fetch_balance()
    assert adapter._session is session and not session.closed

    await adapter.close()
    assert session.closed


async def test_orders_that_cannot_be_valid_never_leave(adapter, fake):
    cases = [
        {"type": OrderType.LIMIT, "amount": Decimal("1")},  # no price
        {"type": OrderType.STOP, "amount": Decimal("1")},  # no stop price
        {"type": OrderType.STOP_LIMIT, "amount": Decimal("1"), "stop_price": Decimal("1")},  # no limit price
        {"type": OrderType.MARKET, "amount": Decimal("0")},
        {"type": OrderType.MARKET, "amount": Decimal("-1")},
        {"type": OrderType.MARKET, "amount": 0.1},  # a float
        {"type": OrderType.LIMIT, "amount": Decimal("1"), "price": Decimal("1"), "time_in_force": "ioc"},
    ]
    for case in cases:
        with pytest.raises(InvalidOrder):
            await adapter.create_order(symbol="BTC/USD", side=Side.BUY, **case)
    assert fake.requests == []


async def test_testnet_without_api_base_url_never_reaches_production():
    robinhood = RobinhoodAdapter(Credentials(apiKey=API_KEY, privateKey=PRIVATE_B64), testnet=True)
    with pytest.raises(NotSupported):
        await robinhood.fetch_ticker("BTC/USD")
    assert robinhood._session is None


# --- (3) error mapping ------------------------------------------------------------------
ACCOUNTS = "/api/v1/crypto/trading/accounts/"


@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "temporary"),
    [
        (401, {"type": "client_error", "errors": [{"detail": "Invalid credentials.", "attr": None}]}, None,
         AuthenticationFailed, False),
        (403, {"type": "client_error", "errors": [{"detail": "API key lacks permission.", "attr": None}]}, None,
         AuthenticationFailed, False),
        (429, {"type": "client_error", "errors": [{"detail": "Request was throttled.", "attr": None}]},
         {"Retry-After": "7"}, RateLimited, True),
        (500, {"type": "server_error", "errors": [{"detail": "A server error occurred.", "attr": None}]}, None,
         ExchangeUnavailable, True),
        (503, "Service Unavailable: scheduled maintenance", None, ExchangeUnavailable, True),
        (400, "Request missing required headers. Required headers: x-api-key, x-signature, x-timestamp.", None,
         AuthenticationFailed, False),
    ],
)  # fmt: skip
async def test_http_errors_map_to_our_errors(adapter, fake, status, body, headers, error, temporary):
    fake.fail(ACCOUNTS, status, body, headers=headers)

    with pytest.raises(error) as caught:
        await adapter.fetch_balance()

    assert caught.value.temporary is temporary
    assert caught.value.exchange == "robinhood" and f"HTTP {status}" in str(caught.value)
    reason = body if isinstance(body, str) else body["errors"][0]["detail"]
    assert reason in str(caught.value)  # the exchange's reason text
    if status == 429:
        assert caught.value.retry_after == 7.0


async def test_a_wrong_key_is_an_authentication_failure(adapter, fake):
    fake.public_key = public_key_b64(base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode())
    with pytest.raises(AuthenticationFailed, match="Invalid API key or signature"):
        await adapter.fetch_balance()


async def test_no_answer_in_time_is_a_timeout(fake):
    fake.delays[ACCOUNTS] = 1.0
    robinhood = RobinhoodAdapter(  # the factory's option, in milliseconds
        Credentials(apiKey=API_KEY, privateKey=PRIVATE_B64), api_base_url=fake.url, options={"timeout_ms": 200}
    )
    try:
        with pytest.raises(ExchangeTimeout) as caught:
            await robinhood.fetch_balance()
    finally:
        await robinhood.close()
    assert caught.value.temporary and "0.2s" in str(caught.value)


async def test_a_refused_connection_is_a_connection_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    robinhood = RobinhoodAdapter(
        Credentials(apiKey=API_KEY, privateKey=PRIVATE_B64), api_base_url=f"http://127.0.0.1:{port}"
    )
    try:
        with pytest.raises(ExchangeConnectionError) as caught:
            await robinhood.fetch_ticker("BTC/USD")
    finally:
        await robinhood.close()
    assert not isinstance(caught.value, ExchangeTimeout) and caught.value.temporary


async def test_insufficient_buying_power_or_holdings(adapter):
    with pytest.raises(InsufficientFunds, match="Insufficient buying power"):
        await adapter.create_order(symbol="BTC/USD", side=Side.BUY, type=OrderType.MARKET, amount=Decimal("1"))
    with pytest.raises(InsufficientFunds, match="Not enough DOGE holdings"):
        await adapter.create_order(symbol="DOGE/USD", side=Side.SELL, type=OrderType.MARKET, amount=Decimal("10"))


async def test_other_validation_errors_are_invalid_orders(adapter, fake):
    fake.fail(ORDERS, 400, {"type": "validation_error", "errors": [{"detail": "Too small.", "attr": "asset_quantity"}]})
    with pytest.raises(InvalidOrder, match=r"Too small\. \(asset_quantity\)"):
        await adapter.create_order(symbol="BTC/USD", side=Side.BUY, type=OrderType.MARKET, amount=Decimal("1E-9"))


async def test_an_unknown_symbol_is_a_bad_symbol(adapter, fake):
    with pytest.raises(BadSymbol, match="Invalid symbol: XYZ-USD"):  # said by the exchange
        await adapter.fetch_ticker("XYZ/USD")

    await adapter.load_markets()
    sent = len(fake.requests)
    with pytest.raises(BadSymbol, match="not listed"):  # known from the loaded markets, nothing sent
        await adapter.create_order(symbol="XYZ/USD", side=Side.BUY, type=OrderType.MARKET, amount=Decimal("1"))
    with pytest.raises(BadSymbol):
        adapter.normalize_symbol("not a symbol")
    assert len(fake.requests) == sent


async def test_an_unknown_order_is_order_not_found(adapter, fake):
    with pytest.raises(OrderNotFound, match="Not found"):
        await adapter.fetch_order(symbol="BTC/USD", order_id=oid(99))
    with pytest.raises(OrderNotFound):
        await adapter.cancel_order(symbol="BTC/USD", order_id=oid(99))
    with pytest.raises(OrderNotFound):  # cannot be an order id: nothing is sent
        await adapter.fetch_order(symbol="BTC/USD", order_id="../accounts")
    assert len(fake.requests) == 2


# --- (4) no secret in an error or a log line -----------------------------------------------
async def test_no_secret_in_any_error_message_or_log_line(fake, caplog):
    caplog.set_level(logging.DEBUG)
    messages = []

    async def collect(coro):
        try:
            await coro
        except ExchangeError as exc:
            messages.append(str(exc))
            messages.append(repr(exc))

    robinhood = RobinhoodAdapter(
        Credentials(apiKey=API_KEY, privateKey=PRIVATE_B64), api_base_url=fake.url, options={"timeout": 0.2}
    )
    try:
        # the exchange echoes the key back: it must come out masked
        fake.fail(ACCOUNTS, 401, {"type": "client_error", "errors": [{"detail": f"Unknown key {API_KEY}."}]})
        await collect(robinhood.fetch_balance())
        assert "Unknown key ***" in messages[-2]
        for status in (403, 429, 500, 503):
            fake.fail(ACCOUNTS, status, f"failure {status} for {API_KEY} / {PRIVATE_B64}")
            await collect(robinhood.fetch_balance())
        await collect(robinhood.create_order(symbol="BTC/USD", side=Side.BUY, type=OrderType.MARKET, amount=10))
        await collect(robinhood.fetch_order(symbol="BTC/USD", order_id=oid(99)))
        await collect(robinhood.fetch_ticker("XYZ/USD"))
        fake.delays[ACCOUNTS] = 1.0
        await collect(robinhood.fetch_balance())
        fake.public_key = public_key_b64(base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode())
        del fake.delays[ACCOUNTS]
        await collect(robinhood.fetch_balance())
        messages.append((await robinhood.test_connection()).error)
    finally:
        await robinhood.close()
    for bad_key in (RobinhoodAdapter(Credentials(apiKey=API_KEY, privateKey=PRIVATE_B64[:-8] + "AAAA====")),):
        await collect(bad_key.fetch_balance())

    assert len(messages) >= 20
    assert "robinhood GET /api/v1/crypto/trading/accounts/ -> 401" in caplog.text  # the log was captured
    signatures = [r.headers["x-signature"] for r in fake.requests]
    for text in [*messages, caplog.text]:
        assert API_KEY not in text and PRIVATE_B64 not in text
        assert not any(signature in text for signature in signatures)


# --- (5) Decimal everywhere ----------------------------------------------------------------
async def test_no_float_in_anything_returned(adapter):
    results = [
        await adapter.load_markets(),
        await adapter.fetch_ticker("BTC/USD"),
        await adapter.fetch_tickers(["BTC/USD", "ETH/USD", "DOGE/USD"]),
        await adapter.fetch_order_book("ETH/USD"),
        await adapter.fetch_balance(),
        await adapter.create_order(symbol="BTC/USD", side=Side.BUY, type=OrderType.MARKET, amount=Decimal("0.001")),
        await adapter.fetch_open_orders(),
        await adapter.fetch_closed_orders(),
        await adapter.fetch_my_trades(),
        [await adapter.fetch_order(symbol="", order_id=oid(n)) for n in range(1, 6)],
    ]
    no_floats(results)
    # quotes arrive as JSON numbers: read straight into Decimal, never through a float
    assert str(results[1].price) == "67150.35"
    assert results[2]["DOGE/USD"].price == Decimal("0.1530000000000000000123")
