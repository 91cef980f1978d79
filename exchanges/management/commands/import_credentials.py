import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from exchanges.importing import ImportAction, ImportResult, credentials_import
from tenancy.models import Tenant


def tenant_from_option(value: str) -> Tenant:
    """The tenant named by its slug or id, or a CommandError listing the ones that exist."""
    value = (value or "").strip()
    match = Q(slug__iexact=value) | (Q(pk=int(value)) if value.isdigit() else Q())
    tenant = Tenant.objects.filter(match).first() if value else None
    if tenant is None:
        known = ", ".join(f"{t.slug} (id {t.pk})" for t in Tenant.objects.order_by("slug")[:20]) or "none yet"
        raise CommandError(f"No tenant with slug or id {value!r}. Tenants: {known}.")
    return tenant


class Command(BaseCommand):
    help = (
        "Import exchange credentials for a tenant from environment variables (KRAKEN_API_KEY, "
        "KRAKEN_API_SECRET, <EXCHANGE>_PASSPHRASE ...) and then from <dir>/<exchange>_config.json files; "
        "a variable beats the file's value of the same field. Stores them encrypted in connections "
        "labelled '<Exchange> (imported)'. Prints field names only, never a secret."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="the tenant's slug or id")
        parser.add_argument(
            "--dir",
            type=Path,
            default=None,
            help="where the <exchange>_config.json files are (default: the CREDENTIALS_DIR setting)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and report, save nothing")

    def handle(self, *args, tenant, dir=None, dry_run=False, **options):
        tenant = tenant_from_option(tenant)
        directory = Path(dir or settings.CREDENTIALS_DIR)
        results = credentials_import(tenant=tenant, environ=os.environ, directory=directory, dry_run=dry_run)
        self.stdout.write(
            f"Tenant {tenant.name} (region {tenant.region}); files in {directory}"
            + (" [dry run: nothing is saved]" if dry_run else "")
        )
        if not results:
            self.stdout.write(f"No credentials found in the environment or in {directory}/*_config.json.")
            return
        for result in results:
            self.stdout.write(self._line(result))
        counts = {action: sum(r.action == action for r in results) for action in ImportAction}
        summary = ", ".join(f"{n} {action}" for action, n in counts.items() if n)
        self.stdout.write(f"{len(results)} exchange(s) found: {summary}" + (" (dry run)" if dry_run else "") + ".")

    def _line(self, result: ImportResult) -> str:
        found = []
        if result.from_environment:
            found.append(f"environment: {self._fields(result, result.from_environment)}")
        if result.from_file:
            found.append(f"{result.file.name}: {self._fields(result, result.from_file)}")
        elif result.file is not None and not result.from_environment:
            found.append(f"{result.file.name}")
        if result.overridden:
            found.append(f"environment beat the file for {', '.join(result.overridden)}")
        if result.ignored:
            found.append(f"ignored keys: {', '.join(result.ignored)}")
        text = f"{result.exchange}: {'; '.join(found) or 'nothing usable'} -> {self._outcome(result)}"
        if result.action == ImportAction.SKIPPED and result.connection_id is None:
            return self.style.WARNING(text)
        return self.style.SUCCESS(text)

    @staticmethod
    def _fields(result: ImportResult, names) -> str:
        return ", ".join(f"{n} {result.api_key_masked}" if n == "apiKey" else n for n in names)

    @staticmethod
    def _outcome(result: ImportResult) -> str:
        where = f" (id {result.connection_id})" if result.connection_id else ""
        if result.action == ImportAction.SKIPPED:
            return f"skipped{where}: {result.reason}"
        verb = {ImportAction.CREATED: "created", ImportAction.UPDATED: "updated"}[result.action]
        if result.dry_run:
            return f"would be {verb}: {result.label!r}{where}"
        return f"{verb} {result.label!r}{where}; a connection test is queued"
