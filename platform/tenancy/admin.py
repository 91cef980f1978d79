from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from rest_framework.authtoken.admin import TokenAdmin as DrfTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from tenancy.admin_mixins import TenantScopedAdmin, mask
from tenancy.models import ApiToken, Membership, Role, Tenant
from tenancy.services import membership_add, membership_change_role, membership_remove, tenant_set_active

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


class _DryRun(Exception):
    pass


def _actor_role(request) -> str | None:
    return Role.OWNER if request.user.is_superuser else getattr(request, "tenant_role", None)


class MembershipForm(forms.ModelForm):
    """Members are added and their roles changed by the tenancy services, whose rules (who may
    grant the owner role, a tenant keeps an owner) are checked before the form is accepted: the
    service runs in a savepoint that is rolled back, and its refusal becomes the form's error."""

    actor_role: str | None = None  # set by MembershipAdmin.get_form

    class Meta:
        model = Membership
        fields = ("tenant", "user", "role")

    def apply(self) -> Membership:
        if self.instance.pk:
            return membership_change_role(
                membership=Membership.objects.get(pk=self.instance.pk), actor_role=self.actor_role,
                role=self.cleaned_data["role"],
            )  # fmt: skip
        return membership_add(
            tenant=self.cleaned_data["tenant"], actor_role=self.actor_role,
            username=self.cleaned_data["user"].get_username(), role=self.cleaned_data["role"],
        )  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.apply()
                raise _DryRun
        except _DryRun:
            pass
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        except PermissionDenied as exc:
            raise forms.ValidationError(str(exc)) from None
        return cleaned


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    form = MembershipForm
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role", "tenant")
    search_fields = ("user__username", "user__email", "tenant__name")
    raw_id_fields = ("user",)
    list_select_related = ("user", "tenant")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor_role": _actor_role(request)})

    def get_readonly_fields(self, request, obj=None):
        # A membership is one user in one tenant: only its role changes.
        return ("tenant", "user", "created_at") if obj is not None else ("created_at",)

    def save_model(self, request, obj, form, change):
        saved = form.apply()
        obj.pk, obj.created_at = saved.pk, saved.created_at

    def delete_model(self, request, obj):
        try:
            membership_remove(membership=obj, actor_role=_actor_role(request))
        except ValidationError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from None

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            try:
                membership_remove(membership=membership, actor_role=_actor_role(request))
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{membership}: {text}", messages.ERROR)


# DRF's token admin shows every token in full: a token is a password. Show it masked.
admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class TokenAdmin(DrfTokenAdmin):
    list_display = ("masked_key", "user", "created")
    fields = ("user",)
    search_fields = ("user__username",)

    @admin.display(description="key")
    def masked_key(self, token):
        return mask(token.key)
