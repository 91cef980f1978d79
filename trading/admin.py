"""The trading admin: orders (read-only; moved only through the order services), trades,
positions with unrealized PnL from cached prices, trading settings with the kill switch,
and the watchlist. Staff see their tenant's rows only (TenantScopedAdmin)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from config.api import json_ready
from tenancy.admin_mixins import ReadOnlyTenantAdmin, TenantScopedAdmin
from tenancy.models import Role
from trading.models import Order, OrderEvent, Position, Trade, TradingSettings, WatchedSymbol
from trading.selectors import position_value
from trading.services.market import symbol_clean
from trading.services.trading_settings import kill_switch_set, quote_currency_clean


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_view_permission(self, request, obj=None):
        # Rights come from the role in the tenant, like the parent's own page, not from model perms.
        return self.admin_site._registry[self.parent_model].has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ("created_at", "kind", "from_status", "to_status", "reason", "data")


class TradeInline(ReadOnlyInline):
    model = Trade
    fields = ("executed_at", "sequence", "amount", "price", "fee", "fee_currency", "realized_pnl")


class ReadOnlyAdmin(ReadOnlyTenantAdmin):
    """Read-only rows whose admin actions (cancel, reconcile) need the trader role."""

    def has_trade_permission(self, request):
        return self._role_allows(request, Role.TRADER)


def _run_each(admin_obj, request, queryset, service, done: str) -> None:
    ok = 0
    for order in queryset:
        try:
            service(order=order)
        except Exception as exc:  # noqa: BLE001 - one order's refusal must not stop the others
            admin_obj.message_user(request, f"Order {order.pk}: {exc}", messages.ERROR)
        else:
            ok += 1
    if ok:
        admin_obj.message_user(request, f"{ok} order(s) {done}.", messages.SUCCESS)


class DiscrepancyFilter(admin.SimpleListFilter):
    """Orders whose database and exchange views disagreed (reconciliation flagged them)."""

    title = "discrepancy"
    parameter_name = "discrepancy"

    def lookups(self, request, model_admin):
        return (("yes", "Flagged"), ("no", "None"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(discrepancy="")
        if self.value() == "no":
            return queryset.filter(discrepancy="")
        return queryset


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "id", "created_at", "tenant", "connection", "symbol", "side", "type", "amount", "filled", "average_price",
        "status", "routing", "purpose", "why",
    )  # fmt: skip
    list_filter = ("status", DiscrepancyFilter, "side", "type", "routing", "purpose", "connection__exchange", "tenant")
    search_fields = ("client_order_id", "exchange_order_id", "symbol")
    list_select_related = ("tenant", "connection")
    date_hierarchy = "created_at"
    inlines = [OrderEventInline, TradeInline]
    actions = ["cancel_orders", "reconcile_orders"]

    @admin.display(description="reason / discrepancy")
    def why(self, order):
        """What a trader looks at first: the discrepancy if flagged, else the refusal or failure."""
        if order.discrepancy:
            return format_html('<strong class="errornote">{}</strong>', order.discrepancy[:120])
        return order.reason[:120]

    @admin.action(description="Cancel selected orders", permissions=["trade"])
    def cancel_orders(self, request, queryset):
        from trading.services.orders import order_cancel  # the pipeline imports the admin's app late

        _run_each(self, request, queryset, order_cancel, "canceled (or asked to cancel)")

    @admin.action(description="Reconcile selected orders now", permissions=["trade"])
    def reconcile_orders(self, request, queryset):
        from trading.services.orders import order_reconcile

        _run_each(self, request, queryset, order_reconcile, "reconciled with the exchange")


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = (
        "executed_at", "tenant", "connection", "symbol", "side", "amount", "price", "fee", "fee_currency",
        "realized_pnl", "order",
    )  # fmt: skip
    list_filter = ("side", "connection__exchange", "tenant")
    search_fields = ("symbol", "order__client_order_id", "order__exchange_order_id")
    list_select_related = ("tenant", "connection", "order")
    date_hierarchy = "executed_at"


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = (
        "connection", "tenant", "symbol", "side", "quantity", "average_price", "mark_price", "unrealized_pnl",
        "realized_pnl", "fees", "opened_at", "updated_at",
    )  # fmt: skip
    list_filter = ("connection__exchange", "tenant")
    search_fields = ("symbol", "connection__label")
    list_select_related = ("tenant", "connection")

    def _valued(self, position) -> Position:
        # Cached prices only: a changelist never waits on an exchange.
        if not hasattr(position, "mark_price"):
            position_value(position, fetch=False)
        return position

    @admin.display(description="mark price")
    def mark_price(self, position):
        mark = self._valued(position).mark_price
        return "—" if mark is None else json_ready(mark)

    @admin.display(description="unrealized PnL")
    def unrealized_pnl(self, position):
        pnl = self._valued(position).unrealized_pnl
        if pnl is None:
            return "—"
        colour = "#1a7f37" if pnl >= 0 else "#cf222e"
        return format_html('<span style="color:{}">{}</span>', colour, json_ready(pnl))


class TradingSettingsForm(forms.ModelForm):
    class Meta:
        model = TradingSettings
        fields = ("tenant", "kill_switch", "kill_switch_reason", "quote_currency", "max_position_notional",
                  "max_order_notional")  # fmt: skip

    def clean_quote_currency(self):
        try:
            return quote_currency_clean(self.cleaned_data["quote_currency"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["quote_currency"]) from None


@admin.register(TradingSettings)
class TradingSettingsAdmin(TenantScopedAdmin):
    form = TradingSettingsForm
    list_display = ("tenant", "kill_switch", "kill_switch_reason", "quote_currency", "max_position_notional",
                    "max_order_notional", "updated_at")  # fmt: skip
    list_filter = ("kill_switch",)
    search_fields = ("tenant__name", "kill_switch_reason")
    actions = ["halt", "resume"]

    @admin.action(description="Halt trading", permissions=["change"])
    def halt(self, request, queryset):
        for row in queryset:
            kill_switch_set(tenant=row.tenant, on=True, reason=f"halted in the admin by {request.user.get_username()}")
        self.message_user(request, f"Trading halted for {queryset.count()} tenant(s).", messages.WARNING)

    @admin.action(description="Resume trading", permissions=["change"])
    def resume(self, request, queryset):
        for row in queryset:
            kill_switch_set(tenant=row.tenant, on=False)
        self.message_user(request, f"Trading resumed for {queryset.count()} tenant(s).", messages.SUCCESS)


class WatchedSymbolForm(forms.ModelForm):
    class Meta:
        model = WatchedSymbol
        fields = ("tenant", "symbol")

    def clean_symbol(self):
        try:
            return symbol_clean(self.cleaned_data["symbol"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["symbol"]) from None


@admin.register(WatchedSymbol)
class WatchedSymbolAdmin(TenantScopedAdmin):
    form = WatchedSymbolForm
    list_display = ("symbol", "tenant", "created_at")
    list_filter = ("tenant",)
    search_fields = ("symbol",)
    list_select_related = ("tenant",)
