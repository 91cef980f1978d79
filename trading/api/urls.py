from django.urls import path

from trading.api import orders, views

urlpatterns = [
    path("market/watchlist/", views.WatchlistApi.as_view(), name="api-watchlist"),
    path("market/watchlist/<int:watched_id>/", views.WatchedSymbolApi.as_view(), name="api-watched-symbol"),
    path("market/ticker/", views.MarketTickerApi.as_view(), name="api-market-ticker"),
    path("market/orderbook/", views.MarketOrderBookApi.as_view(), name="api-market-orderbook"),
    path("market/compare/", views.CompareApi.as_view(), name="api-market-compare"),
    path("market/best-price/", views.BestPriceApi.as_view(), name="api-market-best-price"),
    path("orders/", orders.OrderListApi.as_view(), name="api-orders"),
    path("orders/<int:order_id>/", orders.OrderApi.as_view(), name="api-order"),
]
