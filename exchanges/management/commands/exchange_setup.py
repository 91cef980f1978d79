import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from exchanges import redaction
from exchanges.catalog import supported_exchanges
from exchanges.management.commands.import_credentials import tenant_from_option
from exchanges.models import ExchangeConnection
from exchanges.services import connection_create, connection_test, credentials_validate
from exchanges.validation import api_base_url_clean, exchange_for_region
from tenancy.models import Region, Role, Tenant
from tenancy.services import tenant_update

# How each credential is asked for; the prompt never shows what is typed.
PROMPTS = {
    "apiKey": "API key",
    "secret": "API secret",
    "password": "API passphrase",
    "uid": "User id (uid)",
    "privateKey": "Private key",
    "walletAddress": "Wallet address",
    "accountId": "Account id",
    "login": "Login",
    "token": "Token",
    "twofa": "2FA secret",
}


class Cancelled(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Connect an exchange account for a tenant, step by step: region, exchange, label, credentials "
        "(typed hidden), optional API base URL, a live test, then save."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="the tenant's slug or id (default: choose from a list)")

    def handle(self, *args, tenant=None, **options):
        try:
            self._wizard(tenant)
        except (Cancelled, KeyboardInterrupt, EOFError):
            raise CommandError("Cancelled: no connection was saved.") from None

    # --- the steps ---------------------------------------------------------------------

    def _wizard(self, tenant_option: str | None) -> None:
        tenant = tenant_from_option(tenant_option) if tenant_option else self._choose_tenant()
        self._offer_region_change(tenant)
        info = self._choose_exchange(tenant)
        label = self._ask_label(tenant, default=info.name)
        credentials = {name: self._ask_secret(name) for name in info.required_credentials}
        api_base_url = self._ask_api_base_url()
        secrets = [value for value in credentials.values() if value]

        self.stdout.write(f"\nTesting {info.name} ...")
        try:
            result = credentials_validate(
                tenant=tenant, exchange=info.id, credentials=credentials, api_base_url=api_base_url
            )
        except ValidationError as exc:
            raise CommandError(self._clean(_messages(exc), secrets)) from None
        if result.ok:
            note = " (limited: public data works, private calls do not)" if result.limited else ""
            self.stdout.write(self.style.SUCCESS(f"OK: {_latency(result.latency_ms)}{note}."))
        else:
            reason = self._clean(result.error or "unknown error", secrets)
            kind = f" ({result.error_code})" if result.error_code else ""
            self.stdout.write(self.style.ERROR(f"The test failed{kind}: {reason}"))
            if not self._confirm("Save anyway? [y/N] "):
                self.stdout.write("Nothing was saved.")
                return
        self._save(
            tenant=tenant, info=info, label=label, credentials=credentials, api_base_url=api_base_url, secrets=secrets
        )

    def _save(self, *, tenant, info, label, credentials, api_base_url, secrets) -> None:
        try:
            connection = connection_create(
                tenant=tenant,
                exchange=info.id,
                label=label,
                credentials=credentials,
                api_base_url=api_base_url,
                test=False,
            )
        except ValidationError as exc:
            raise CommandError(f"Not saved: {self._clean(_messages(exc), secrets)}") from None
        connection_test(connection=connection)  # records status, latency and reason on the row
        state = connection.get_status_display().lower()
        if connection.latency_ms is not None:
            state += f", {_latency(connection.latency_ms)}"
        if connection.last_error:
            state += f": {self._clean(connection.last_error, secrets)}"
        self.stdout.write(
            self.style.SUCCESS(
                f"Saved {connection.label!r} (id {connection.pk}, {info.id}) for {tenant.name}: {state}."
            )
        )

    def _choose_tenant(self) -> Tenant:
        tenants = list(Tenant.objects.filter(is_active=True).order_by("name"))
        if not tenants:
            raise CommandError("There is no tenant yet: create one with `manage.py create_tenant`.")
        self.stdout.write("Tenants:")
        for number, tenant in enumerate(tenants, 1):
            self.stdout.write(f"  {number}) {tenant.name} (slug {tenant.slug}, region {tenant.region})")
        while True:
            answer = self._ask("Tenant (number or slug): ")
            if answer.isdigit() and 1 <= int(answer) <= len(tenants):
                return tenants[int(answer) - 1]
            match = [t for t in tenants if t.slug == answer.lower()]
            if match:
                return match[0]
            self.stdout.write(self.style.ERROR("No such tenant: type a number from the list or a slug."))

    def _offer_region_change(self, tenant: Tenant) -> None:
        self.stdout.write(f"Tenant {tenant.name}: region {tenant.region} ({tenant.get_region_display()}).")
        if not self._confirm("Change the region? [y/N] "):
            return
        while True:
            answer = self._ask(f"New region ({'/'.join(Region.values)}): ").lower()
            try:
                tenant_update(tenant=tenant, actor_role=Role.OWNER, region=answer)
            except ValidationError as exc:
                self.stdout.write(self.style.ERROR(_messages(exc)))
                continue
            self.stdout.write(f"Region is now {tenant.region} ({tenant.get_region_display()}).")
            return

    def _choose_exchange(self, tenant: Tenant):
        seeds = [info for info in supported_exchanges(tenant.region) if info.seed]
        self.stdout.write(f"\nExchanges in region {tenant.region}:")
        for number, info in enumerate(seeds, 1):
            self.stdout.write(f"  {number}) {info.name} ({info.id})")
        self.stdout.write("  other: type any ccxt exchange id (e.g. bitfinex)")
        while True:
            answer = self._ask("Exchange (number or id): ")
            if answer.isdigit() and 1 <= int(answer) <= len(seeds):
                return seeds[int(answer) - 1]
            try:
                return exchange_for_region(answer, tenant.region)
            except ValidationError as exc:
                self.stdout.write(self.style.ERROR(_messages(exc)))

    def _ask_label(self, tenant: Tenant, *, default: str) -> str:
        taken = {
            label.lower() for label in ExchangeConnection.objects.filter(tenant=tenant).values_list("label", flat=True)
        }
        suggestion, n = default, 1
        while suggestion.lower() in taken:
            n += 1
            suggestion = f"{default} {n}"
        while True:
            label = self._ask(f"Label [{suggestion}]: ") or suggestion
            if label.lower() not in taken:
                return label
            self.stdout.write(self.style.ERROR(f"This tenant already has a connection labelled {label!r}."))

    def _ask_secret(self, name: str) -> str:
        prompt = f"{PROMPTS.get(name, name)} (hidden): "
        while True:
            self.stdout.flush()
            value = getpass.getpass(prompt).strip()
            if value:
                return value
            self.stdout.write(self.style.ERROR(f"{PROMPTS.get(name, name)} is required."))

    def _ask_api_base_url(self) -> str:
        while True:
            answer = self._ask("API base URL (testnet, proxy; blank for the exchange's own): ")
            try:
                return api_base_url_clean(answer)
            except ValidationError as exc:
                self.stdout.write(self.style.ERROR(_messages(exc)))

    # --- terminal helpers ----------------------------------------------------------------

    def _ask(self, prompt: str) -> str:
        self.stdout.write(prompt, ending="")
        self.stdout.flush()
        line = sys.stdin.readline()
        if not line:  # end of input: stop instead of asking forever
            raise Cancelled
        return line.strip()

    def _confirm(self, prompt: str) -> bool:
        return self._ask(prompt).lower() in ("y", "yes")

    @staticmethod
    def _clean(text: str, secrets: list[str]) -> str:
        return redaction.redact(text, extra=secrets)


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(" ".join(messages) for messages in exc.message_dict.values())
    return " ".join(exc.messages)


def _latency(latency_ms: float | None) -> str:
    return f"{latency_ms:.0f} ms" if latency_ms is not None else "no latency measured"
