"""The dashboard socket: a session user joins their current tenant's group and receives its
events (orders, connections, bot signals, backtests), plus the public price groups of the
symbols their page shows. Anonymous sockets and users without a tenant are closed; so is a
socket that asks to join any group other than its own tenant's or a public price group.

Messages from the page:
  {"action": "subscribe_prices", "symbols": ["BTC/USDT"]}  -> {"event": "subscribed", ...}
  {"action": "join", "group": "tenant.7" | "prices.<venue>.<BASE_QUOTE>"}
  {"action": "ping"}                                       -> {"event": "pong"}
"""

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from dashboard import prices
from dashboard.events import tenant_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        self.tenant = self.scope.get("tenant")
        self.tenant_groups: set[str] = set()
        self.price_groups: set[str] = set()
        self.demand: list = []
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if self.tenant is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self._add(tenant_group(self.tenant.pk), self.tenant_groups)
        await self.accept()
        await self.send_json({"event": "hello", "data": {"tenant": self.tenant.name, "tenant_id": self.tenant.pk}})

    async def disconnect(self, code):
        for group in self.tenant_groups | self.price_groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return json.loads(text_data)
        except ValueError:  # answered as an unknown action, not with a crash
            return None

    async def receive_json(self, content, **kwargs):
        action = content.get("action") if isinstance(content, dict) else None
        if action == "ping":
            if self.demand:  # the page is still open: keep its prices polled
                await database_sync_to_async(prices.dashboard_demand_register)(self.demand)
            await self.send_json({"event": "pong", "data": {}})
        elif action == "subscribe_prices":
            await self._subscribe_prices(content.get("symbols"))
        elif action == "join":
            await self._join(content.get("group"))
        else:
            await self.send_json({"event": "error", "data": {"detail": "unknown action"}})

    async def _subscribe_prices(self, symbols) -> None:
        try:
            symbols = prices.symbols_clean(symbols)
        except prices.PriceRequestError as exc:
            await self.send_json({"event": "error", "data": {"detail": str(exc)}})
            return
        self.demand = await database_sync_to_async(self._price_demand)(symbols)
        wanted = set(prices.price_groups(self.demand))
        for group in self.price_groups - wanted:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.price_groups &= wanted
        for group in wanted - self.price_groups:
            await self._add(group, self.price_groups)
        await self.send_json({"event": "subscribed", "data": {"symbols": symbols, "groups": len(self.price_groups)}})

    def _price_demand(self, symbols: list[str]) -> list:
        demand = prices.tenant_price_demand(tenant=self.tenant, symbols=symbols)
        prices.dashboard_demand_register(demand)
        return demand

    async def _join(self, group) -> None:
        """Only the socket's own tenant group and public price groups; anything else closes it."""
        if group == tenant_group(self.tenant.pk):
            pass  # joined at connect
        elif prices.is_price_group(group) and len(self.price_groups) < prices.MAX_PRICE_GROUPS:
            await self._add(group, self.price_groups)
        else:
            await self.send_json({"event": "error", "data": {"detail": "not allowed to join that group"}})
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.send_json({"event": "joined", "data": {"group": group}})

    async def _add(self, group: str, into: set[str]) -> None:
        if group not in into:
            await self.channel_layer.group_add(group, self.channel_name)
            into.add(group)

    async def dashboard_event(self, message):
        await self.send_json({"event": message["event"], "data": message["data"]})

    async def dashboard_events(self, message):
        """Several events pushed together (dashboard.events.tenant_event_publish): one frame each."""
        for event in message["events"]:
            await self.send_json({"event": event["event"], "data": event["data"]})
