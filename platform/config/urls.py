from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api import api_not_found

api_v1 = [
    path("", include("tenancy.api.urls")),
    path("", include("monitoring.api.urls")),
    path("", include("exchanges.api.urls")),
    path("", include("trading.api.urls")),
    path("", include("trading.api.portfolio_urls")),
    path("", include("trading.api.protection_urls")),
    path("", include("bots.api.urls")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:home", permanent=False)),
    path("admin/monitoring/", include("monitoring.admin_urls")),  # pages inside the admin
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("tenants/", include("tenancy.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Anything else under /api/ is a JSON 404, whatever DEBUG says.
    re_path(r"^api/", api_not_found),
]

handler400 = "config.api.handler400"
handler404 = "config.api.handler404"
handler500 = "config.api.handler500"
