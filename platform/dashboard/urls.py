from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("prices/", views.prices, name="prices"),
    path("orders/", views.orders, name="orders"),
    path("bots/", views.bots, name="bots"),
]
