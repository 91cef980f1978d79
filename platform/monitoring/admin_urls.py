"""The monitoring pages, mounted under /admin/monitoring/ (config.urls), each behind the
admin's own login and staff check."""

from django.contrib import admin
from django.urls import path

from monitoring import admin_views

app_name = "monitoring-admin"

urlpatterns = [
    path("exchanges/", admin.site.admin_view(admin_views.exchange_health), name="exchanges"),
    path("orders/", admin.site.admin_view(admin_views.order_pipeline), name="orders"),
    path("workers/", admin.site.admin_view(admin_views.workers), name="workers"),
]
