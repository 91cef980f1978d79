"""``{% monitoring_pages as pages %}``: the monitoring pages the current user may open."""

from django import template

from monitoring.admin_views import monitoring_links

register = template.Library()


@register.simple_tag(takes_context=True)
def monitoring_pages(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_active or not user.is_staff:
        return []
    if not user.is_superuser and getattr(request, "tenant_role", None) is None:
        return []  # staff without a tenant have nothing to monitor
    return monitoring_links(user)
