"""Dashboard pages: server-rendered frames for the current tenant; the live figures come from
the API (session auth) and the dashboard socket. No secrets are ever put in a page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from bots.models.subscriptions import TIMEFRAMES
from exchanges.selectors import connection_list
from exchanges.status import connection_status
from exchanges.symbols import InvalidSymbol, normalize
from tenancy.selectors import membership_list

DEFAULT_SYMBOL = "BTC/USDT"


def _page(request, template: str, **context):
    tenant = request.tenant
    if tenant is not None:
        # Label, exchange, status and figures only: the serializer-free fields safe to render.
        context.setdefault("connections", connection_list(tenant=tenant))
    return render(request, template, context)


@login_required
def home(request):
    tenant = request.tenant
    if tenant is None:
        return _page(request, "dashboard/home.html", page="home")
    # Status, latency and last error as routing sees them (Redis health + the last test);
    # balances and positions come from the API once the page is up.
    summary = [connection_status(c) for c in connection_list(tenant=tenant)]
    enabled = [row for row in summary if row["enabled"]]
    return _page(
        request, "dashboard/home.html", page="home", summary=summary, members=membership_list(tenant=tenant),
        available=f"{sum(row['available'] for row in enabled)} / {len(enabled)}",
    )  # fmt: skip


@login_required
def prices(request):
    try:
        symbol = normalize(request.GET.get("symbol") or DEFAULT_SYMBOL)
    except InvalidSymbol:
        symbol = DEFAULT_SYMBOL
    return _page(request, "dashboard/prices.html", symbol=symbol, page="prices")


@login_required
def orders(request):
    return _page(request, "dashboard/orders.html", symbol=DEFAULT_SYMBOL, page="orders")


@login_required
def bots(request):
    return _page(request, "dashboard/bots.html", symbol=DEFAULT_SYMBOL, timeframes=TIMEFRAMES, page="bots")
