"""The dashboard socket: a session user joins their current tenant's group and receives
its events. Anonymous sockets and users without a tenant are closed."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from dashboard.events import tenant_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        tenant = self.scope.get("tenant")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if tenant is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.groups_joined = [tenant_group(tenant.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"event": "hello", "data": {"tenant": tenant.name, "tenant_id": tenant.pk}})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # Clients only listen; anything they send other than a ping is ignored.
        if content.get("action") == "ping":
            await self.send_json({"event": "pong", "data": {}})

    async def dashboard_event(self, message):
        await self.send_json({"event": message["event"], "data": message["data"]})
