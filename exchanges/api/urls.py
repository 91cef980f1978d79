from django.urls import path

from exchanges.api import views

urlpatterns = [
    path("exchanges/supported/", views.SupportedExchangesApi.as_view(), name="api-exchanges-supported"),
    path(
        "exchanges/validate-credentials/",
        views.ValidateCredentialsApi.as_view(),
        name="api-exchanges-validate-credentials",
    ),
    path("exchanges/status/", views.ExchangesStatusApi.as_view(), name="api-exchanges-status"),
    path("exchanges/connections/", views.ConnectionListApi.as_view(), name="api-connection-list"),
    path("exchanges/connections/<int:connection_id>/", views.ConnectionDetailApi.as_view(), name="api-connection"),
    path("exchanges/connections/<int:connection_id>/test/", views.ConnectionTestApi.as_view()),
    path("exchanges/connections/<int:connection_id>/balance/", views.ConnectionBalanceApi.as_view()),
    path("exchanges/connections/<int:connection_id>/symbols/", views.ConnectionSymbolsApi.as_view()),
    path("exchanges/connections/<int:connection_id>/info/", views.ConnectionInfoApi.as_view()),
]
