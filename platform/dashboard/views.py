from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tenancy.selectors import membership_list


@login_required
def home(request):
    tenant = request.tenant
    members = membership_list(tenant=tenant) if tenant is not None else []
    return render(request, "dashboard/home.html", {"members": members})
