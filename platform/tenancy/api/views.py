from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from tenancy import selectors, services
from tenancy.api import serializers as s
from tenancy.api.mixins import TenantScopedMixin
from tenancy.models import Membership
from tenancy.resolution import TenantNotFound, resolve_tenant


class TokenObtainApi(ObtainAuthToken):
    """POST username and password, get ``{"token": ...}`` for ``Authorization: Token ...``."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class MeApi(TenantScopedMixin, APIView):
    @extend_schema(responses=s.MeOutputSerializer)
    def get(self, request):
        return Response(s.MeOutputSerializer(request.user, context={"request": request}).data)


class TenantListApi(APIView):
    @extend_schema(responses=s.TenantOutputSerializer(many=True))
    def get(self, request):
        tenants = selectors.tenant_list_for_user(user=request.user).prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.filter(user=request.user))
        )
        return Response(s.TenantOutputSerializer(tenants, many=True, context={"request": request}).data)


class _TenantFromUrlMixin:
    """``/tenants/{tenant_id}/...``: the tenant in the URL, with the caller's role in it."""

    def tenant_context(self, request, tenant_id):
        try:
            return resolve_tenant(user=request.user, explicit=tenant_id)
        except TenantNotFound:
            raise NotFound("No tenant matches the given query.") from None


class TenantDetailApi(_TenantFromUrlMixin, APIView):
    def _render(self, request, tenant_id):
        tenant = selectors.tenant_get_for_user(user=request.user, tenant_id=tenant_id)
        return Response(s.TenantOutputSerializer(tenant, context={"request": request}).data)

    @extend_schema(responses=s.TenantOutputSerializer)
    def get(self, request, tenant_id: int):
        self.tenant_context(request, tenant_id)
        return self._render(request, tenant_id)

    @extend_schema(request=s.TenantUpdateInputSerializer, responses=s.TenantOutputSerializer)
    def patch(self, request, tenant_id: int):
        context = self.tenant_context(request, tenant_id)
        data = s.TenantUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.tenant_update(tenant=context.tenant, actor_role=context.role, **data.validated_data)
        return self._render(request, tenant_id)


class MembershipListApi(_TenantFromUrlMixin, APIView):
    @extend_schema(responses=s.MembershipOutputSerializer(many=True))
    def get(self, request, tenant_id: int):
        context = self.tenant_context(request, tenant_id)
        memberships = selectors.membership_list(tenant=context.tenant)
        return Response(s.MembershipOutputSerializer(memberships, many=True).data)

    @extend_schema(request=s.MembershipCreateInputSerializer, responses={201: s.MembershipOutputSerializer})
    def post(self, request, tenant_id: int):
        context = self.tenant_context(request, tenant_id)
        data = s.MembershipCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_add(tenant=context.tenant, actor_role=context.role, **data.validated_data)
        return Response(s.MembershipOutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class MembershipDetailApi(_TenantFromUrlMixin, APIView):
    @extend_schema(request=s.MembershipUpdateInputSerializer, responses=s.MembershipOutputSerializer)
    def patch(self, request, tenant_id: int, membership_id: int):
        context = self.tenant_context(request, tenant_id)
        membership = selectors.membership_get(tenant=context.tenant, membership_id=membership_id)
        data = s.MembershipUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.membership_change_role(membership=membership, actor_role=context.role, **data.validated_data)
        return Response(s.MembershipOutputSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request, tenant_id: int, membership_id: int):
        context = self.tenant_context(request, tenant_id)
        membership = selectors.membership_get(tenant=context.tenant, membership_id=membership_id)
        services.membership_remove(membership=membership, actor_role=context.role)
        return Response(status=status.HTTP_204_NO_CONTENT)
