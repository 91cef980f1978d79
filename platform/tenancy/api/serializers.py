from rest_framework import serializers

from tenancy.models import Membership, Region, Role, Tenant


class TenantOutputSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True)
    my_role = serializers.SerializerMethodField()

    class Meta:
        model = Tenant
        fields = ["id", "name", "slug", "region", "is_active", "member_count", "my_role", "created_at"]

    def get_my_role(self, tenant) -> str | None:
        user = self.context["request"].user
        if user.is_superuser:
            return Role.OWNER
        membership = next((m for m in tenant.memberships.all() if m.user_id == user.pk), None)
        return membership.role if membership else None


class TenantUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    region = serializers.ChoiceField(choices=Region.choices, required=False)


class MembershipOutputSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at"]


class MembershipCreateInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class MembershipUpdateInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class MeOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_superuser = serializers.BooleanField()
    current_tenant = serializers.SerializerMethodField()
    current_role = serializers.SerializerMethodField()
    memberships = serializers.SerializerMethodField()

    def get_current_tenant(self, user) -> dict | None:
        tenant = self.context["request"].tenant
        return {"id": tenant.pk, "name": tenant.name, "slug": tenant.slug, "region": tenant.region} if tenant else None

    def get_current_role(self, user) -> str | None:
        return self.context["request"].tenant_role

    def get_memberships(self, user) -> list[dict]:
        return [
            {"tenant_id": m.tenant_id, "tenant": m.tenant.name, "role": m.role}
            for m in user.memberships.select_related("tenant").order_by("created_at")
        ]
