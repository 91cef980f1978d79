"""Websocket routes of every app."""

from dashboard.routing import websocket_urlpatterns as dashboard_ws

websocket_urlpatterns = [*dashboard_ws]
