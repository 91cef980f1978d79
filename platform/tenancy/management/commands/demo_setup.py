import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from exchanges.paper.services import paper_connection_ensure
from exchanges.services import connection_test
from tenancy.models import Membership, Region, Role, Tenant
from tenancy.services import tenant_create
from trading.services import watch_add

DEMO_TENANT = "Demo Trading"


class Command(BaseCommand):
    help = "Create (or refresh) the demo tenant, its owner 'demo' and an operator 'admin'; print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="password for both logins (default: a new random one each run)")
        parser.add_argument("--region", choices=Region.values, default=Region.GLOBAL)

    @transaction.atomic
    def handle(self, *args, password=None, region=Region.GLOBAL, **options):
        password = password or secrets.token_urlsafe(12)
        User = get_user_model()
        demo, _ = User.objects.get_or_create(username="demo", defaults={"is_staff": True})
        demo.set_password(password)
        demo.save()
        admin, _ = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
        admin.set_password(password)
        admin.save()
        tenant = Tenant.objects.filter(name=DEMO_TENANT).first() or tenant_create(
            name=DEMO_TENANT, owner=demo, region=region
        )
        Membership.objects.get_or_create(tenant=tenant, user=demo, defaults={"role": Role.OWNER})
        paper = paper_connection_ensure(tenant=tenant, label="Paper trading")
        for symbol in ("BTC/USDT", "ETH/USDT", "SOL/USDT"):  # polled live for the dashboard
            watch_add(tenant=tenant, symbol=symbol)
        transaction.on_commit(lambda: connection_test(connection=paper))  # shows as connected at once
        self.stdout.write(
            self.style.SUCCESS(
                "\n".join(
                    [
                        "",
                        "=" * 64,
                        f"  Demo tenant : {tenant.name} (region {tenant.region}), trading on paper"
                        f" (connection {paper.pk}: 100000 USDT + 100000 USD)",
                        f"  Tenant login: demo / {password}   (owner; dashboard and scoped admin)",
                        f"  Operator    : admin / {password}   (superuser; the whole platform)",
                        "=" * 64,
                        "",
                    ]
                )
            )
        )
