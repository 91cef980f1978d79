from importlib import import_module

from django.apps import AppConfig
from django.conf import settings


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Exchanges"

    def ready(self):
        # Adapters outside ccxt (Robinhood, paper, custom ones) register on import.
        for module in settings.EXCHANGE_ADAPTER_MODULES:
            import_module(module)
