from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from tenancy.resolution import SESSION_KEY, TenantNotFound, resolve_tenant


@login_required
@require_POST
def tenant_switch(request):
    """The tenant switcher: pages, the admin and websockets act for the chosen tenant."""
    choice = request.POST.get("tenant", "").strip()
    try:
        context = resolve_tenant(user=request.user, explicit=choice or None)
    except TenantNotFound:
        raise Http404("No tenant matches the given query.") from None
    if not choice or context.tenant is None:
        raise Http404("No tenant matches the given query.")
    request.session[SESSION_KEY] = context.tenant.pk
    messages.success(request, f"Now working in {context.tenant.name}.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "dashboard:home"
    return redirect(next_url)
