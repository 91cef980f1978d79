from django.contrib import admin, messages
from django.db.models import Count, Q

from exchanges.paper.models import OPEN_STATUSES, PaperAccount, PaperBalance, PaperOrder, PaperTrade
from exchanges.paper.services import paper_account_reset
from tenancy.admin_mixins import ReadOnlyTenantAdmin, TenantScopedAdmin


class PaperBalanceInline(admin.TabularInline):
    model = PaperBalance
    fields = ("asset", "free", "used", "total")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        # Rights come from the role in the tenant, like the account's own page, not from model perms.
        return self.admin_site._registry[self.parent_model].has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="total")
    def total(self, balance):
        return balance.total


@admin.register(PaperAccount)
class PaperAccountAdmin(TenantScopedAdmin):
    list_display = (
        "connection",
        "tenant",
        "price_source",
        "follow_exchange",
        "fee_rate",
        "slippage_bps",
        "open_orders",
    )
    list_filter = ("price_source",)
    search_fields = ("connection__label", "connection__tenant__name")
    list_select_related = ("connection__tenant",)
    fields = ("connection", "price_source", "follow_exchange", "fee_rate", "slippage_bps", "starting_balances")
    readonly_fields = ("connection", "starting_balances")
    inlines = [PaperBalanceInline]
    actions = ["reset"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_open_orders=Count("orders", filter=Q(orders__status__in=OPEN_STATUSES)))
        )

    def has_add_permission(self, request):
        return False  # an account is created with its connection's first use (or paper_account_ensure)

    @admin.display(description="tenant", ordering="connection__tenant__name")
    def tenant(self, account):
        return account.connection.tenant

    @admin.display(description="open orders", ordering="_open_orders")
    def open_orders(self, account):
        return account._open_orders

    @admin.action(description="Reset selected accounts to their starting balances (orders are deleted)")
    def reset(self, request, queryset):
        for account in queryset.select_related("connection"):
            paper_account_reset(connection=account.connection)
        self.message_user(request, f"{queryset.count()} paper account(s) reset.", messages.SUCCESS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            actions.pop("reset", None)
        return actions


@admin.register(PaperOrder)
class PaperOrderAdmin(ReadOnlyTenantAdmin):
    list_display = ("created_at", "account", "symbol", "side", "type", "amount", "price", "status", "filled", "average")
    list_filter = ("status", "side", "type", "symbol")
    search_fields = ("id", "client_order_id", "account__connection__label")
    list_select_related = ("account__connection",)
    date_hierarchy = "created_at"


@admin.register(PaperTrade)
class PaperTradeAdmin(ReadOnlyTenantAdmin):
    list_display = ("created_at", "account", "symbol", "side", "amount", "price", "fee", "fee_currency", "taker")
    list_filter = ("side", "symbol", "taker")
    search_fields = ("order__id", "account__connection__label")
    list_select_related = ("account__connection",)
