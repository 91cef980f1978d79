from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BotsConfig(AppConfig):
    name = "bots"
    verbose_name = "Bots"

    def ready(self):
        # The SDK's built-in strategies are platform bots in the marketplace from the first
        # migrate on (and again after a test flush); an operator's edits to them are kept.
        post_migrate.connect(_sync_builtins, sender=self, weak=False, dispatch_uid="bots.builtin_bots_sync")


def _sync_builtins(**kwargs):
    from bots.services.catalog import builtin_bots_sync

    builtin_bots_sync()
