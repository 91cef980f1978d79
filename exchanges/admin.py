from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from exchanges import reads, services
from exchanges.adapters.errors import ExchangeError
from exchanges.catalog import exchange_info
from exchanges.models import ConnectionStatus, ExchangeConnection
from exchanges.redaction import redact
from exchanges.validation import api_base_url_clean, credentials_from, exchange_for_region
from tenancy.admin_mixins import TenantScopedAdmin
from tenancy.models import Role

_STATUS_COLOURS = {
    ConnectionStatus.CONNECTED: "#1a7f37",
    ConnectionStatus.LIMITED: "#9a6700",
    ConnectionStatus.FAILED: "#cf222e",
    ConnectionStatus.UNTESTED: "#57606a",
}
_SECRET_FIELDS = ("apiKey", "secret", "password", "uid", "privateKey")


class ExchangeConnectionForm(forms.ModelForm):
    """Credentials are write-only: the inputs start empty and an empty input keeps the stored value."""

    apiKey = forms.CharField(label="API key", required=False, widget=forms.PasswordInput(render_value=False))
    secret = forms.CharField(label="Secret", required=False, widget=forms.PasswordInput(render_value=False))
    password = forms.CharField(label="Passphrase", required=False, widget=forms.PasswordInput(render_value=False))
    uid = forms.CharField(label="UID", required=False, widget=forms.PasswordInput(render_value=False))
    privateKey = forms.CharField(label="Private key", required=False, widget=forms.PasswordInput(render_value=False))

    class Meta:
        model = ExchangeConnection
        fields = [
            "tenant", "exchange", "label", "testnet", "api_base_url", "priority", "enabled",
            "capital_allocation_pct", "max_positions",
        ]  # fmt: skip

    def clean_api_base_url(self):
        try:
            return api_base_url_clean(self.cleaned_data.get("api_base_url"))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["api_base_url"]) from None

    def clean(self):
        cleaned = super().clean()
        tenant, exchange = cleaned.get("tenant"), cleaned.get("exchange")
        if tenant is None or not exchange:
            return cleaned
        try:
            info = exchange_for_region(exchange, tenant.region)
            given = {name: cleaned.get(name) for name in _SECRET_FIELDS if cleaned.get(name)}
            stored = self.instance.credentials.as_ccxt() if self.instance.pk else {}
            self.credentials = credentials_from({**stored, **given}, info=info)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
            return cleaned
        cleaned["exchange"] = info.id
        return cleaned

    def save(self, commit=True):
        connection = super().save(commit=False)
        if hasattr(self, "credentials"):
            connection.set_credentials(self.credentials)
        if commit:
            connection.save()
        return connection


@admin.register(ExchangeConnection)
class ExchangeConnectionAdmin(TenantScopedAdmin):
    form = ExchangeConnectionForm
    list_display = (
        "label", "exchange", "tenant", "status_badge", "latency", "priority", "enabled",
        "capital_allocation_pct", "max_positions", "api_key_masked", "testnet", "last_checked_at",
    )  # fmt: skip
    list_filter = ("status", "enabled", "exchange", "testnet", "tenant")
    search_fields = ("label", "exchange", "tenant__name")
    list_editable = ("priority", "enabled")
    list_select_related = ("tenant",)
    readonly_fields = ("api_key_masked", "status", "latency_ms", "last_error", "last_checked_at", "capabilities")
    actions = ["test_connections", "resync_balances", "enable", "disable", "reencrypt"]
    fieldsets = (
        (None, {"fields": ("tenant", "exchange", "label", "testnet", "api_base_url")}),
        ("Credentials (write-only: leave empty to keep)", {"fields": (
            "api_key_masked", "apiKey", "secret", "password", "uid", "privateKey")}),
        ("Routing and limits", {"fields": ("priority", "enabled", "capital_allocation_pct", "max_positions")}),
        ("Health", {"fields": ("status", "latency_ms", "last_error", "last_checked_at", "capabilities")}),
    )  # fmt: skip

    @admin.display(description="status", ordering="status")
    def status_badge(self, connection):
        colour = _STATUS_COLOURS.get(connection.status, "#57606a")
        return format_html('<b style="color:{}">{}</b>', colour, connection.get_status_display())

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, connection):
        return f"{connection.latency_ms:.0f} ms" if connection.latency_ms is not None else "—"

    def get_queryset(self, request):
        # The ciphertext is read only where it is used (the form, the actions' services): a row
        # that no key of FERNET_KEYS decrypts must not take the whole list down with it.
        return super().get_queryset(request).defer("encrypted_credentials")

    @admin.display(description="API key")
    def api_key_masked(self, connection):
        if connection.api_key_hint:
            return f"••••••••{connection.api_key_hint}"
        if "encrypted_credentials" in connection.get_deferred_fields():
            return "••••••••"
        return "••••••••" if connection.has_credentials else "—"

    @admin.display(description="capabilities")
    def capabilities(self, connection):
        info = exchange_info(connection.exchange) if connection.exchange else None
        if info is None:
            return "—"
        return ", ".join(name.replace("_", " ") for name, on in info.capabilities.as_dict().items() if on) or "—"

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if not request.user.is_superuser and getattr(request, "tenant", None) is not None:
            initial.setdefault("tenant", request.tenant.pk)  # the only choice a staff user has
        return initial

    def has_trade_permission(self, request):
        """Testing a connection and reading its balance: traders and above (viewers only look)."""
        return self._role_allows(request, Role.TRADER)

    @admin.action(description="Test selected connections now", permissions=["trade"])
    def test_connections(self, request, queryset):
        for connection in queryset:
            result = services.connection_test(connection=connection)
            level = messages.SUCCESS if result.ok else messages.ERROR
            detail = f"ok in {result.latency_ms:.0f} ms" if result.ok else f"failed: {redact(result.error or '')}"
            self.message_user(request, f"{connection}: {detail}", level)

    @admin.action(description="Resync balances from the exchange", permissions=["trade"])
    def resync_balances(self, request, queryset):
        done = 0
        for connection in queryset:
            try:
                balance = reads.connection_balance(connection=connection, fresh=True)
            except (ExchangeError, TimeoutError) as exc:
                reason = redact(str(exc)) or "the exchange did not answer in time"
                self.message_user(request, f"{connection}: balance not read: {reason}", messages.ERROR)
                continue
            done += 1
            self.message_user(request, f"{connection}: {len(balance.assets)} asset(s) refreshed.", messages.INFO)
        if done:
            self.message_user(request, f"{done} connection(s) resynced.", messages.SUCCESS)

    @admin.action(description="Enable selected connections", permissions=["change"])
    def enable(self, request, queryset):
        count = services.connection_set_enabled(connections=queryset, enabled=True)
        self.message_user(request, f"{count} connection(s) enabled.", messages.SUCCESS)

    @admin.action(description="Disable selected connections", permissions=["change"])
    def disable(self, request, queryset):
        count = services.connection_set_enabled(connections=queryset, enabled=False)
        self.message_user(request, f"{count} connection(s) disabled.", messages.WARNING)

    @admin.action(description="Re-encrypt credentials with the current key", permissions=["change"])
    def reencrypt(self, request, queryset):
        try:
            count = services.credentials_rotate(connections=queryset)
        except services.CredentialsUnreadable as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{count} connection(s) re-encrypted with the first of FERNET_KEYS.")
