"""Exchange reads through the real ASGI stack, as daphne serves them: a sync view in
Django's thread-sensitive executor calling an adapter must not wait on itself."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from rest_framework.authtoken.models import Token

from config.asgi import application
from exchanges.adapters import ccxt_pool
from exchanges.paper.services import paper_connection_ensure
from exchanges.tests.factories import ExchangeConnectionFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def get(path: str, token: str) -> tuple[int, dict]:
    communicator = HttpCommunicator(
        application, "GET", path, headers=[(b"authorization", f"Token {token}".encode()), (b"host", b"localhost")]
    )
    response = await communicator.get_response(timeout=20)
    await communicator.wait(timeout=5)  # let Django finish the request (and close its connection)
    return response["status"], json.loads(response["body"] or b"{}")


@database_sync_to_async
def token_for(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


async def test_paper_balance_and_ticker_over_asgi(owner, tenant):
    paper = await database_sync_to_async(paper_connection_ensure)(tenant=tenant)
    token = await token_for(owner)
    status, balance = await get(f"/api/v1/exchanges/connections/{paper.pk}/balance/", token)
    assert status == 200, balance
    assert {a["asset"] for a in balance["assets"]} >= {"USDT", "USD"}
    status, ticker = await get(f"/api/v1/market/ticker/?connection={paper.pk}&symbol=BTC/USDT", token)
    assert status == 200, ticker
    assert float(ticker["price"]) > 0


async def test_simulated_binance_over_asgi(owner, tenant, exchange_simulator):
    ccxt_pool.forget_markets()
    account = exchange_simulator.add_account("binance", balances={"USDT": 500})
    connection = await database_sync_to_async(ExchangeConnectionFactory)(
        tenant=tenant, api_base_url=exchange_simulator.base_url, credentials=None
    )
    await database_sync_to_async(_set_credentials)(connection, account.credentials())
    status, balance = await get(f"/api/v1/exchanges/connections/{connection.pk}/balance/", await token_for(owner))
    assert status == 200, balance
    assert balance["assets"] == [{"asset": "USDT", "free": "500", "used": "0", "total": "500"}]


def _set_credentials(connection, credentials):
    from exchanges.adapters.types import Credentials

    connection.set_credentials(Credentials(**credentials))
    connection.save()
