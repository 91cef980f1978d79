"""Writes of tenants and memberships. Each rule a user could break raises a
ValidationError naming the field, or PermissionDenied naming the role needed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify

from tenancy.models import Membership, Region, Role, Tenant, role_at_least


def _unique_slug(name: str) -> str:
    base = slugify(name)[:120] or "tenant"
    slug, n = base, 1
    while Tenant.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def tenant_create(*, name: str, owner, region: str = Region.GLOBAL) -> Tenant:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A tenant needs a name."})
    if region not in Region.values:
        raise ValidationError({"region": f"Unknown region {region!r}; choose one of {', '.join(Region.values)}."})
    if Tenant.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A tenant named {name!r} already exists."})
    tenant = Tenant.objects.create(name=name, slug=_unique_slug(name), region=region)
    Membership.objects.create(tenant=tenant, user=owner, role=Role.OWNER)
    return tenant


@transaction.atomic
def tenant_create_with_owner(*, name: str, username: str, password: str, region: str = Region.GLOBAL):
    """The create_tenant command: a tenant, its owner login (new or existing) and membership.

    Returns (tenant, user, created_user).
    """
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    created = user is None
    if created:
        if not password:
            raise ValidationError({"password": "A new owner needs a password."})
        user = User(username=username, is_staff=True)  # staff: the admin, scoped to their tenants
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
    tenant = tenant_create(name=name, owner=user, region=region)
    return tenant, user, created


def tenant_update(*, tenant: Tenant, actor_role: str, name: str | None = None, region: str | None = None) -> Tenant:
    _require(actor_role, Role.ADMIN, "change the tenant")
    if region is not None and region != tenant.region:
        _require(actor_role, Role.OWNER, "change the tenant's region")
        if region not in Region.values:
            raise ValidationError({"region": f"Unknown region {region!r}."})
        tenant.region = region
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": "A tenant needs a name."})
        if Tenant.objects.filter(name__iexact=name).exclude(pk=tenant.pk).exists():
            raise ValidationError({"name": f"A tenant named {name!r} already exists."})
        tenant.name = name
    tenant.save()
    return tenant


def tenant_set_active(*, tenants, active: bool) -> int:
    """Deactivated tenants vanish from their members' switchers, API and admin."""
    return tenants.update(is_active=active)


def _require(actor_role: str | None, minimum: str, what: str) -> None:
    if actor_role is None or not role_at_least(actor_role, minimum):
        raise PermissionDenied(f"Only a tenant {minimum} or above may {what}.")


def _check_grant(actor_role: str, role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; choose one of {', '.join(Role.values)}."})
    if role == Role.OWNER:
        _require(actor_role, Role.OWNER, "grant the owner role")


@transaction.atomic
def membership_add(*, tenant: Tenant, actor_role: str, username: str, role: str) -> Membership:
    _require(actor_role, Role.ADMIN, "add members")
    _check_grant(actor_role, role)
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"username": f"No user named {username!r}."})
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise ValidationError({"username": f"{username!r} is already a member of this tenant."})
    return Membership.objects.create(tenant=tenant, user=user, role=role)


def _lock_owners(tenant: Tenant) -> int:
    # Lock the tenant's owner rows so two concurrent demotions cannot both pass the check.
    return len(list(Membership.objects.select_for_update().filter(tenant=tenant, role=Role.OWNER)))


@transaction.atomic
def membership_change_role(*, membership: Membership, actor_role: str, role: str) -> Membership:
    _require(actor_role, Role.ADMIN, "change roles")
    _check_grant(actor_role, role)
    if membership.role == Role.OWNER and role != Role.OWNER:
        _require(actor_role, Role.OWNER, "demote an owner")
        if _lock_owners(membership.tenant) <= 1:
            raise ValidationError({"role": "A tenant keeps at least one owner."})
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor_role: str) -> None:
    _require(actor_role, Role.ADMIN, "remove members")
    if membership.role == Role.OWNER:
        _require(actor_role, Role.OWNER, "remove an owner")
        if _lock_owners(membership.tenant) <= 1:
            raise ValidationError({"role": "A tenant keeps at least one owner."})
    membership.delete()
