from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from exchanges.services import CredentialsUnreadable, credentials_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every exchange connection's credentials with the first of FERNET_KEYS. "
        "Put the new key first and keep the old ones after it; once this has run, the old keys can be dropped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="rows rewritten per database round trip")

    def handle(self, *args, batch_size=500, **options):
        try:
            count = credentials_rotate(batch_size=batch_size)
        except CredentialsUnreadable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted the credentials of {count} connection(s) with the first of FERNET_KEYS.")
        )
        keys = len(settings.FERNET_KEYS)
        if keys > 1:
            self.stdout.write(f"The other {keys - 1} key(s) are no longer needed and can be removed from FERNET_KEYS.")
