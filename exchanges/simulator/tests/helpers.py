"""Clients for the simulator's tests: real ccxt exchanges pointed at it, and a signed Robinhood client."""

from __future__ import annotations

import base64
import json
import time
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aiohttp
import ccxt.async_support as ccxt
import yarl
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchanges.simulator import Account


def point_at(exchange: ccxt.Exchange, base_url: str) -> None:
    """Replace scheme and host of every REST URL with ``base_url``, keeping the paths.

    This is what a connection's ``api_base_url`` does in the platform's adapter.
    """
    hostname = getattr(exchange, "hostname", "") or ""
    for name, url in list(exchange.urls["api"].items()):
        if isinstance(url, str):
            path = urlsplit(url.replace("{hostname}", hostname)).path
            exchange.urls["api"][name] = base_url.rstrip("/") + path


@asynccontextmanager
async def ccxt_client(exchange_id: str, base_url: str, account: Account | None = None, **config):
    """A real ccxt async client talking to the simulator; closed on exit."""
    settings = {"enableRateLimit": False, "timeout": 5000} | (account.credentials() if account else {}) | config
    exchange = getattr(ccxt, exchange_id)(settings)
    point_at(exchange, base_url)
    try:
        yield exchange
    finally:
        await exchange.close()


class RobinhoodClient:
    """Signs requests like Robinhood's own sample client, with a real Ed25519 private key."""

    def __init__(self, base_url: str, api_key: str, private_key: str, *, clock_offset: int = 0):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key))
        self.clock_offset = clock_offset
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RobinhoodClient:
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()

    def headers(self, method: str, path: str, body: str = "") -> dict[str, str]:
        timestamp = str(int(time.time()) + self.clock_offset)
        message = f"{self.api_key}{timestamp}{path}{method}{body}".encode()
        signature = base64.b64encode(self.key.sign(message)).decode()
        return {"x-api-key": self.api_key, "x-timestamp": timestamp, "x-signature": signature}

    async def request(
        self, method: str, path: str, body: dict | None = None, *, timeout: float = 5.0, headers: dict | None = None
    ) -> tuple[int, object]:
        """(status, JSON or text). ``path`` includes the query string, exactly as signed."""
        text = json.dumps(body) if body is not None else ""
        sent = self.headers(method, path, text) | ({"Content-Type": "application/json"} if body is not None else {})
        sent |= headers or {}
        url = yarl.URL(self.base_url + path, encoded=True)  # send the path exactly as it was signed
        timeout_after = aiohttp.ClientTimeout(total=timeout)
        async with self.session.request(
            method, url, data=text or None, headers=sent, timeout=timeout_after
        ) as response:
            raw = await response.text()
            try:
                return response.status, json.loads(raw)
            except ValueError:
                return response.status, raw

    async def get(self, path: str, **kwargs) -> tuple[int, object]:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, body: dict | None = None, **kwargs) -> tuple[int, object]:
        return await self.request("POST", path, body, **kwargs)
