"""The admin base for tenant-owned models.

A superuser sees and edits every row. A staff user sees only the rows of the tenant
they are working in (the switcher's choice), with rights from their role there:
viewers and traders may look, admins and owners may change. Foreign keys offered in
forms are scoped the same way, so a staff user cannot point a row at another tenant.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.db import models

from tenancy.models import Role, Tenant, role_at_least
from tenancy.scoping import scoped


class ScopedAllValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Values of a field across a relation (``connection__exchange``), taken from the rows the
    admin shows: Django's own filter reads them from every row of the related model."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        rows = model_admin.get_queryset(request).order_by(field_path)
        self.lookup_choices = rows.values_list(field_path, flat=True).distinct()


def scoped_list_filter(model, item):
    """A list filter whose choices come from the admin's (tenant-scoped) rows only.

    Django lists every row of a related model as a filter choice (the names of other
    tenants' connections, bots, users): relations become RelatedOnlyFieldListFilter, plain
    values across a relation ScopedAllValuesFieldListFilter. Filters given with their own
    class are left as they are.
    """
    if not isinstance(item, str):
        return item
    field = get_fields_from_path(model, item)[-1]
    if field.is_relation:
        return (item, admin.RelatedOnlyFieldListFilter)
    if "__" in item and not field.choices and not isinstance(field, models.BooleanField):
        return (item, ScopedAllValuesFieldListFilter)
    return item


class TenantScopedAdmin(admin.ModelAdmin):
    #: rows a staff user may change need this role in the current tenant
    change_role = Role.ADMIN

    # --- which rows -------------------------------------------------------------------
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return scoped(queryset, tenant=getattr(request, "tenant", None))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.remote_field.model
        if not request.user.is_superuser and (related is Tenant or hasattr(related, "tenant_field")):
            kwargs["queryset"] = scoped(related, tenant=getattr(request, "tenant", None))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.remote_field.model
        if not request.user.is_superuser and (related is Tenant or hasattr(related, "tenant_field")):
            kwargs["queryset"] = scoped(related, tenant=getattr(request, "tenant", None))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        # One tenant only: the tenant filter is noise; the others offer this tenant's values only.
        return [scoped_list_filter(self.model, f) for f in filters if f != "tenant"]

    # --- which rights -----------------------------------------------------------------
    def _role_allows(self, request, minimum: str) -> bool:
        if request.user.is_superuser:
            return True
        role = getattr(request, "tenant_role", None)
        return request.user.is_active and request.user.is_staff and role is not None and role_at_least(role, minimum)

    def has_module_permission(self, request):
        return self._role_allows(request, Role.VIEWER)

    def has_view_permission(self, request, obj=None):
        return self._role_allows(request, Role.VIEWER)

    def has_change_permission(self, request, obj=None):
        return self._role_allows(request, self.change_role)

    def has_add_permission(self, request):
        return self._role_allows(request, self.change_role)

    def has_delete_permission(self, request, obj=None):
        return self._role_allows(request, self.change_role)

    def save_model(self, request, obj, form, change):
        # A staff user's new row belongs to the tenant they are working in.
        if not request.user.is_superuser and hasattr(obj, "tenant_id") and obj.tenant_id is None:
            obj.tenant = request.tenant
        super().save_model(request, obj, form, change)


class ReadOnlyTenantAdmin(TenantScopedAdmin):
    """Rows only services write (orders, fills, positions): viewed, never added, edited or
    deleted by hand; admin actions call the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def mask(value: str | None, *, keep: int = 4) -> str:
    """``••••••••1a2b``: enough to recognise a key, never enough to use it."""
    if not value:
        return "—"
    value = str(value)
    return "•" * 8 + (value[-keep:] if len(value) > keep * 2 else "")
