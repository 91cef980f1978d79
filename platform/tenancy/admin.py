from django.contrib import admin, messages
from django.db.models import Count
from rest_framework.authtoken.admin import TokenAdmin as DrfTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from tenancy.admin_mixins import TenantScopedAdmin, mask
from tenancy.models import Membership, Role, Tenant
from tenancy.services import tenant_set_active

admin.site.site_header = "Trading platform administration"
admin.site.site_title = "Trading platform admin"
admin.site.index_title = "Exchanges, orders, bots and tenants"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    list_display = ("name", "slug", "region", "is_active", "member_count", "owners", "created_at")
    list_filter = ("region", "is_active")
    search_fields = ("name", "slug", "memberships__user__username")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at")
    inlines = [MembershipInline]
    actions = ["activate", "deactivate"]
    change_role = Role.OWNER

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_member_count=Count("memberships", distinct=True))

    def has_add_permission(self, request):
        return request.user.is_superuser  # tenants are created by operators (or create_tenant)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description="members", ordering="_member_count")
    def member_count(self, tenant):
        return tenant._member_count

    @admin.display(description="owners")
    def owners(self, tenant):
        return ", ".join(m.user.username for m in tenant.memberships.filter(role=Role.OWNER).select_related("user"))

    @admin.action(description="Activate selected tenants")
    def activate(self, request, queryset):
        updated = tenant_set_active(tenants=queryset, active=True)
        self.message_user(request, f"{updated} tenant(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected tenants (members lose access)")
    def deactivate(self, request, queryset):
        updated = tenant_set_active(tenants=queryset, active=False)
        self.message_user(request, f"{updated} tenant(s) deactivated.", messages.WARNING)

    def get_inlines(self, request, obj):
        # Staff manage members on the Membership page, which is scoped and role-checked.
        return self.inlines if request.user.is_superuser else []

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("activate", None)
            actions.pop("deactivate", None)
        return actions


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role", "tenant")
    search_fields = ("user__username", "user__email", "tenant__name")
    raw_id_fields = ("user",)
    list_select_related = ("user", "tenant")


# DRF's token admin shows every token in full: a token is a password. Show it masked.
admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(DrfTokenAdmin):
    list_display = ("masked_key", "user", "created")
    fields = ("user",)
    search_fields = ("user__username",)

    @admin.display(description="key")
    def masked_key(self, token):
        return mask(token.key)
