from django.urls import path

from monitoring.api.views import HealthApi

urlpatterns = [path("health/", HealthApi.as_view(), name="api-health")]
