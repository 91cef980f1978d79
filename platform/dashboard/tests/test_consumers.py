"""The dashboard socket over the real ASGI stack and the real channels-redis layer."""

import threading

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from dashboard.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from dashboard.events import tenant_event_publish, tenant_group
from tenancy.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def socket(cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/dashboard/", headers=headers)


async def test_a_member_receives_their_tenants_events_across_redis(owner, outsider, tenant, other_tenant):
    mine = socket(await database_sync_to_async(session_cookie)(owner))
    theirs = socket(await database_sync_to_async(session_cookie)(outsider))
    assert (await mine.connect())[0] is True
    assert (await theirs.connect())[0] is True
    assert (await mine.receive_json_from())["data"]["tenant"] == "Acme Capital"
    assert (await theirs.receive_json_from())["data"]["tenant"] == "Globex Trading"

    # Published from sync code (as a Celery task would), delivered through channels-redis.
    await database_sync_to_async(tenant_event_publish)(
        tenant_id=tenant.pk, event="order.status", data={"status": "filled"}
    )
    assert await mine.receive_json_from(timeout=5) == {"event": "order.status", "data": {"status": "filled"}}
    assert await theirs.receive_nothing(timeout=0.5)

    await mine.disconnect()
    await theirs.disconnect()


async def test_hot_path_pushes_are_coalesced_and_an_orders_newest_state_wins(owner, outsider, tenant):
    """wait=False pushes (the order pipeline's) go out together per tenant: an order that moved
    twice meanwhile arrives once, as it is now; events without a key all arrive, in order."""
    mine = socket(await database_sync_to_async(session_cookie)(owner))
    theirs = socket(await database_sync_to_async(session_cookie)(outsider))
    assert (await mine.connect())[0] is True and (await theirs.connect())[0] is True
    await mine.receive_json_from()
    await theirs.receive_json_from()

    def publish():
        for order, status in ((1, "submitting"), (2, "submitting"), (1, "filled")):
            tenant_event_publish(tenant_id=tenant.pk, event="order", data={"id": order, "status": status},
                                 wait=False, key=("order", order))  # fmt: skip
        tenant_event_publish(tenant_id=tenant.pk, event="signal", data={"n": 1}, wait=False)
        tenant_event_publish(tenant_id=tenant.pk, event="signal", data={"n": 2}, wait=False)

    await database_sync_to_async(publish)()
    frames = [await mine.receive_json_from(timeout=5) for _ in range(4)]
    assert frames == [
        {"event": "order", "data": {"id": 1, "status": "filled"}},
        {"event": "order", "data": {"id": 2, "status": "submitting"}},
        {"event": "signal", "data": {"n": 1}},
        {"event": "signal", "data": {"n": 2}},
    ]
    assert await mine.receive_nothing(timeout=0.3)
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()


async def test_hot_path_pushes_from_many_threads_all_arrive(owner, tenant):
    """Workers' threads publish at once: every event joins a push, none is lost or doubled."""
    mine = socket(await database_sync_to_async(session_cookie)(owner))
    assert (await mine.connect())[0] is True
    await mine.receive_json_from()

    def publish(thread: int) -> None:
        for n in range(25):
            tenant_event_publish(tenant_id=tenant.pk, event="order", data={"id": thread * 100 + n},
                                 wait=False, key=("order", thread * 100 + n))  # fmt: skip

    threads = [threading.Thread(target=publish, args=(thread,)) for thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    frames = [await mine.receive_json_from(timeout=5) for _ in range(100)]
    assert sorted(frame["data"]["id"] for frame in frames) == sorted(t * 100 + n for t in range(4) for n in range(25))
    assert await mine.receive_nothing(timeout=0.3)
    await mine.disconnect()


async def test_a_socket_without_a_session_is_closed():
    communicator = socket()
    connected, code = await communicator.connect()
    assert connected is False
    assert code == CLOSE_UNAUTHENTICATED


async def test_a_user_without_a_tenant_is_closed():
    loner = await database_sync_to_async(UserFactory)(username="loner")
    communicator = socket(await database_sync_to_async(session_cookie)(loner))
    connected, code = await communicator.connect()
    assert connected is False
    assert code == CLOSE_FORBIDDEN


async def test_a_foreign_origin_is_refused(owner):
    cookie = await database_sync_to_async(session_cookie)(owner)
    communicator = WebsocketCommunicator(
        application, "/ws/dashboard/", headers=[(b"origin", b"http://evil.example"), (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert connected is False


def test_group_names_are_per_tenant():
    assert tenant_group(7) == "tenant.7" != tenant_group(8)


async def connected(user) -> WebsocketCommunicator:
    communicator = socket(await database_sync_to_async(session_cookie)(user))
    assert (await communicator.connect())[0] is True
    assert (await communicator.receive_json_from())["event"] == "hello"
    return communicator


async def test_asking_for_another_tenants_group_closes_the_socket(owner, outsider, tenant, other_tenant):
    communicator = await connected(owner)
    await communicator.send_json_to({"action": "join", "group": tenant_group(other_tenant.pk)})
    assert (await communicator.receive_json_from())["event"] == "error"
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    # and it never got the other tenant's events
    await database_sync_to_async(tenant_event_publish)(tenant_id=other_tenant.pk, event="order", data={"id": 1})
    assert await communicator.receive_nothing(timeout=0.3)


@pytest.mark.parametrize("group", ["tenant.999", "asgi.whatever", "prices", "prices.binance.BTC/USDT", 7, None])
async def test_only_own_and_public_price_groups_may_be_joined(owner, tenant, group):
    communicator = await connected(owner)
    await communicator.send_json_to({"action": "join", "group": group})
    assert (await communicator.receive_json_from())["event"] == "error"
    assert (await communicator.receive_output(timeout=5))["code"] == CLOSE_FORBIDDEN


async def test_joining_its_own_group_and_a_public_price_group(owner, tenant):
    from channels.layers import get_channel_layer

    communicator = await connected(owner)
    await communicator.send_json_to({"action": "join", "group": tenant_group(tenant.pk)})
    assert await communicator.receive_json_from() == {"event": "joined", "data": {"group": tenant_group(tenant.pk)}}
    await communicator.send_json_to({"action": "join", "group": "prices.binance.BTC_USDT"})
    assert (await communicator.receive_json_from())["event"] == "joined"
    message = {"type": "dashboard.event", "event": "price", "data": {"symbol": "BTC/USDT", "price": "1"}}
    await get_channel_layer().group_send("prices.binance.BTC_USDT", message)
    assert (await communicator.receive_json_from(timeout=5))["event"] == "price"
    await communicator.disconnect()


async def test_subscribing_to_prices_joins_the_tenants_venues_and_keeps_them_polled(owner, tenant, other_tenant):
    from channels.layers import get_channel_layer

    from dashboard.prices import dashboard_demand
    from exchanges.tests.factories import ExchangeConnectionFactory
    from trading.market.demand import market_demand
    from trading.market.venues import Venue, price_group

    mine = await database_sync_to_async(ExchangeConnectionFactory)(tenant=tenant, exchange="binance", label="B")
    await database_sync_to_async(ExchangeConnectionFactory)(tenant=other_tenant, exchange="okx", label="O")
    communicator = await connected(owner)
    await communicator.send_json_to({"action": "subscribe_prices", "symbols": ["btc-usdt", "ETH/USDT", "BTC/USDT"]})
    reply = await communicator.receive_json_from(timeout=5)
    assert reply == {"event": "subscribed", "data": {"symbols": ["BTC/USDT", "ETH/USDT"], "groups": 2}}
    venue = Venue.of(mine)
    demand = await database_sync_to_async(lambda: list(dashboard_demand()))()
    assert sorted(demand) == [(venue, "BTC/USDT"), (venue, "ETH/USDT")]  # not the other tenant's OKX
    assert (await database_sync_to_async(market_demand)())[venue] >= {"BTC/USDT", "ETH/USDT"}

    message = {"type": "dashboard.event", "event": "price", "data": {"venue": venue.key, "symbol": "ETH/USDT"}}
    await get_channel_layer().group_send(price_group(venue, "ETH/USDT"), message)
    assert (await communicator.receive_json_from(timeout=5))["data"]["symbol"] == "ETH/USDT"
    # a new subscription replaces the old one: ETH/USDT is left
    await communicator.send_json_to({"action": "subscribe_prices", "symbols": ["BTC/USDT"]})
    assert (await communicator.receive_json_from(timeout=5))["data"]["groups"] == 1
    await get_channel_layer().group_send(price_group(venue, "ETH/USDT"), message)
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


@pytest.mark.parametrize(
    "symbols", [None, [], "BTC/USDT", [f"C{i}/USDT" for i in range(11)], ["not a symbol!"], [{"x": 1}]]
)
async def test_a_bad_price_subscription_is_answered_with_an_error(owner, tenant, symbols):
    communicator = await connected(owner)
    await communicator.send_json_to({"action": "subscribe_prices", "symbols": symbols})
    assert (await communicator.receive_json_from(timeout=5))["event"] == "error"
    await communicator.send_to(text_data="not json")
    assert (await communicator.receive_json_from(timeout=5))["event"] == "error"
    await communicator.send_json_to({"action": "ping"})  # still open
    assert (await communicator.receive_json_from(timeout=5))["event"] == "pong"
    await communicator.disconnect()


async def test_an_idle_socket_stays_open_past_the_redis_read_timeout(owner, tenant):
    """redis-py 8 reads with a 5 s timeout by default; the layer's blocking receive must outlast it."""
    import asyncio

    communicator = await connected(owner)
    await asyncio.sleep(6)
    await database_sync_to_async(tenant_event_publish)(tenant_id=tenant.pk, event="order", data={"id": 2})
    assert (await communicator.receive_json_from(timeout=5))["event"] == "order"
    await communicator.disconnect()


async def test_a_connection_status_change_is_pushed_to_its_tenant_only(owner, outsider, tenant, other_tenant):
    from exchanges.services import connection_test
    from exchanges.tests.factories import ExchangeConnectionFactory

    connection = await database_sync_to_async(ExchangeConnectionFactory)(
        tenant=tenant, exchange="kraken", label="Down", api_base_url="http://127.0.0.1:9", status="connected"
    )
    mine, theirs = await connected(owner), await connected(outsider)
    await database_sync_to_async(connection_test)(connection=connection)
    message = await mine.receive_json_from(timeout=10)
    assert message["event"] == "connection.status"
    assert (message["data"]["id"], message["data"]["status"]) == (connection.pk, "failed")
    assert message["data"]["last_error"]
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()
