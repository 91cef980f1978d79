"""The bots admin: the catalog with the operator's review (approve / reject), uploaded files,
subscriptions with pause / resume / stop, their signals, and backtests. Staff see their
tenant's rows only; approving a bot for the marketplace is a platform operator's
(superuser's) action."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count

from bots.models import Backtest, Bot, BotFile, BotSignal, Subscription
from bots.services import catalog, subscriptions
from tenancy.admin_mixins import ReadOnlyTenantAdmin, TenantScopedAdmin
from tenancy.models import Role


class BotFileInline(admin.TabularInline):
    model = BotFile
    extra = 0
    can_delete = False
    fields = ("name", "file_type", "framework", "model_type", "format", "size", "sha256", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # uploads go through the API, which checks every file

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return self.admin_site._registry[Bot].has_view_permission(request, obj)


@admin.register(Bot)
class BotAdmin(TenantScopedAdmin):
    list_display = ("name", "bot_type", "author_name", "builtin", "version", "visibility", "review_status",
                    "file_total", "listing_win_rate", "listing_pnl", "updated_at")  # fmt: skip
    list_filter = ("bot_type", "visibility", "review_status", ("author", admin.EmptyFieldListFilter))
    search_fields = ("name", "description", "author__name", "builtin")
    readonly_fields = ("slug", "author", "builtin", "visibility", "review_status", "reviewed_by", "reviewed_at",
                       "backtest_summary", "created_by", "created_at", "updated_at")  # fmt: skip
    fields = ("name", "bot_type", "description", "version", "strategy_schema", "execution_schema", "risk_schema",
              *readonly_fields[:-3], "review_note", "created_by", "created_at", "updated_at")  # fmt: skip
    inlines = [BotFileInline]
    actions = ["approve", "reject", "refresh_listing"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author").annotate(n_files=Count("files"))

    def has_add_permission(self, request):
        return False  # authors create bots through the API (files are checked there)

    @admin.display(description="author", ordering="author__name")
    def author_name(self, bot):
        return bot.author.name if bot.author_id else "platform"

    @admin.display(description="files", ordering="n_files")
    def file_total(self, bot):
        return bot.n_files

    @admin.display(description="win rate (sample)")
    def listing_win_rate(self, bot):
        value = (bot.backtest_summary or {}).get("win_rate")
        return "—" if value is None else f"{value} %"

    @admin.display(description="PnL % (sample)")
    def listing_pnl(self, bot):
        value = (bot.backtest_summary or {}).get("total_pnl_percent")
        return "—" if value is None else f"{value} %"

    def save_model(self, request, obj, form, change):
        try:
            catalog.bot_update(bot=obj, **{f: form.cleaned_data[f] for f in catalog.EDITABLE if f in form.cleaned_data})
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:  # the review is the platform operator's
            actions.pop("approve", None)
            actions.pop("reject", None)
        return actions

    @admin.action(description="Approve for the marketplace (operator)")
    def approve(self, request, queryset):
        for bot in queryset:
            catalog.bot_review(bot=bot, approve=True, reviewer=request.user)
        self.message_user(request, f"{queryset.count()} bot(s) approved and published; listing backtests queued.")

    @admin.action(description="Reject (operator)")
    def reject(self, request, queryset):
        for bot in queryset:
            catalog.bot_review(bot=bot, approve=False, reviewer=request.user, note="Rejected in the admin.")
        self.message_user(request, f"{queryset.count()} bot(s) rejected.")

    @admin.action(description="Re-run the listing backtest on the shipped sample", permissions=["change"])
    def refresh_listing(self, request, queryset):
        from bots.tasks import bot_listing_backtest

        for bot in queryset:
            bot_listing_backtest.delay(bot.pk)
        self.message_user(request, f"Listing backtests queued for {queryset.count()} bot(s).")


@admin.register(BotFile)
class BotFileAdmin(ReadOnlyTenantAdmin):
    list_display = ("name", "bot", "file_type", "framework", "format", "size", "created_at")
    list_filter = ("file_type", "framework", "format")
    search_fields = ("name", "bot__name", "sha256")
    exclude = ("file",)  # the bytes are never served from the admin


@admin.register(Subscription)
class SubscriptionAdmin(TenantScopedAdmin):
    change_role = Role.TRADER
    list_display = ("name", "tenant", "bot", "connection", "routing", "symbol", "timeframe", "status", "last_action",
                    "last_evaluated_at", "short_error")  # fmt: skip
    list_filter = ("status", "timeframe", "routing", "bot", "tenant")
    search_fields = ("name", "symbol", "bot__name", "error")
    readonly_fields = ("tenant", "bot", "connection", "routing", "symbol", "status", "error", "last_candle_at",
                       "last_evaluated_at", "last_action", "created_by", "created_at", "updated_at")  # fmt: skip
    fields = ("name", "timeframe", "strategy_config", "execution_config", "risk_config", *readonly_fields)
    actions = ["pause", "resume", "stop"]

    def has_add_permission(self, request):
        return False  # subscribe through the API or the dashboard (configs checked against the bot's schemas)

    @admin.display(description="error")
    def short_error(self, sub):
        return (sub.error[:80] + "…") if len(sub.error) > 80 else sub.error

    def save_model(self, request, obj, form, change):
        fields = {f: form.cleaned_data[f] for f in ("name", "timeframe", "strategy_config", "execution_config",
                                                    "risk_config") if f in form.cleaned_data}  # fmt: skip
        try:
            subscriptions.subscription_update(subscription=obj, **fields)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)

    def _move(self, request, queryset, move: str):
        done = 0
        for sub in queryset:
            try:
                subscriptions.subscription_move(subscription=sub, move=move)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{sub.name}: {' '.join(exc.messages)}", messages.WARNING)
        self.message_user(request, f"{done} subscription(s): {move}.")

    @admin.action(description="Pause", permissions=["change"])
    def pause(self, request, queryset):
        self._move(request, queryset, "pause")

    @admin.action(description="Resume", permissions=["change"])
    def resume(self, request, queryset):
        self._move(request, queryset, "resume")

    @admin.action(description="Stop", permissions=["change"])
    def stop(self, request, queryset):
        self._move(request, queryset, "stop")


@admin.register(BotSignal)
class BotSignalAdmin(ReadOnlyTenantAdmin):
    list_display = ("created_at", "subscription", "action", "price", "outcome", "detail", "order", "duration_ms")
    list_filter = ("action", "outcome")
    search_fields = ("subscription__name", "reason", "detail")
    list_select_related = ("subscription",)


@admin.register(Backtest)
class BacktestAdmin(ReadOnlyTenantAdmin):
    list_display = ("id", "tenant", "bot", "symbol", "timeframe", "data", "status", "progress", "candles",
                    "total_trades", "win_rate", "pnl_percent", "created_at")  # fmt: skip
    list_filter = ("status", "data", "timeframe")
    search_fields = ("bot__name", "symbol")
    exclude = ("equity_curve", "trades")
    list_select_related = ("bot", "tenant")

    @admin.display(description="trades")
    def total_trades(self, backtest):
        return (backtest.figures or {}).get("total_trades", "—")

    @admin.display(description="win rate %")
    def win_rate(self, backtest):
        return (backtest.figures or {}).get("win_rate", "—")

    @admin.display(description="PnL %")
    def pnl_percent(self, backtest):
        return (backtest.figures or {}).get("total_pnl_percent", "—")
