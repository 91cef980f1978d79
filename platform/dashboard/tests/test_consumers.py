"""The dashboard socket over the real ASGI stack and the real channels-redis layer."""

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
