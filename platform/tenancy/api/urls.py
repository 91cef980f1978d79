from django.urls import path

from tenancy.api import views

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="api-token"),
    path("me/", views.MeApi.as_view(), name="api-me"),
    path("tenants/", views.TenantListApi.as_view(), name="api-tenant-list"),
    path("tenants/<int:tenant_id>/", views.TenantDetailApi.as_view(), name="api-tenant-detail"),
    path("tenants/<int:tenant_id>/members/", views.MembershipListApi.as_view(), name="api-membership-list"),
    path(
        "tenants/<int:tenant_id>/members/<int:membership_id>/",
        views.MembershipDetailApi.as_view(),
        name="api-membership-detail",
    ),
]
