from django.urls import path

from trading.api import protection

urlpatterns = [
    path("positions/<int:position_id>/protect/", protection.PositionProtectApi.as_view(), name="api-position-protect"),
]
