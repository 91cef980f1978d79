from django.urls import path

from trading.api import portfolio

urlpatterns = [
    path("trades/", portfolio.TradeListApi.as_view(), name="api-trades"),
    path("positions/", portfolio.PositionListApi.as_view(), name="api-positions"),
    path("balances/", portfolio.BalancesApi.as_view(), name="api-balances"),
    path("trading-settings/", portfolio.TradingSettingsApi.as_view(), name="api-trading-settings"),
]
