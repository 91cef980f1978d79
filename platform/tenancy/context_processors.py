from tenancy.selectors import tenant_list_for_user


def tenancy(request):
    """The current tenant and the ones a user may switch to, for every template."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_role": getattr(request, "tenant_role", None),
        "switchable_tenants": tenant_list_for_user(user=user),
    }
