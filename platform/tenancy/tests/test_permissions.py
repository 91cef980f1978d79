"""TenantRolePermission: the role check of every tenant-scoped API view."""

import pytest
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from tenancy.api.mixins import TenantRolePermission, TenantScopedMixin
from tenancy.models import Role
from tenancy.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


class TradeDeskApi(TenantScopedMixin, APIView):
    """A view as later apps write them: reads for viewers, writes for traders."""

    permission_classes = [TenantRolePermission]

    def get(self, request):
        return Response({"tenant": request.tenant.slug, "role": request.tenant_role})

    def post(self, request):
        return Response({"placed": True}, status=201)


urlpatterns = [path("desk/", TradeDeskApi.as_view())]


@pytest.fixture(autouse=True)
def desk_urls(settings):
    settings.ROOT_URLCONF = __name__


def test_viewer_reads_but_does_not_write(api, member):
    assert api(member).get("/desk/").json() == {"tenant": "acme", "role": "viewer"}
    response = api(member).post("/desk/")
    assert response.status_code == 403
    assert response.json()["detail"] == "This needs the trader role in Acme Capital."


def test_trader_writes(api, tenant):
    trader = MembershipFactory(tenant=tenant, user=UserFactory(username="tina"), role=Role.TRADER).user
    assert api(trader).post("/desk/").status_code == 201


def test_user_without_tenant_is_told_so(api, db):
    response = api(UserFactory(username="loner")).get("/desk/")
    assert response.status_code == 403
    assert "not a member of any tenant" in response.json()["detail"]


def test_outsider_naming_the_tenant_gets_404(api, outsider, tenant):
    assert api(outsider).get("/desk/", HTTP_X_TENANT="acme").status_code == 404
    assert api(outsider).get("/desk/").json()["tenant"] == "globex"
