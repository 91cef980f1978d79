from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenancy.models import Region
from tenancy.services import tenant_create_with_owner


class Command(BaseCommand):
    help = "Create a tenant with its owner login and membership."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the tenant's name, e.g. 'Acme Capital'")
        parser.add_argument("--owner", required=True, help="the owner's username (created if new)")
        parser.add_argument("--password", required=True, help="the owner's password (for a new user)")
        parser.add_argument("--region", choices=Region.values, default=Region.GLOBAL)

    def handle(self, *args, name, owner, password, region, **options):
        try:
            tenant, user, created = tenant_create_with_owner(
                name=name, username=owner, password=password, region=region
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        who = "new user" if created else "existing user, password unchanged"
        self.stdout.write(
            self.style.SUCCESS(
                f"Created tenant {tenant.name!r} (id {tenant.pk}, slug {tenant.slug}, region {tenant.region}) "
                f"owned by {user.username} ({who})."
            )
        )
