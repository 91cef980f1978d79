"""Bot services: the catalog, configs, the runtime, subscriptions and their evaluation,
performance figures and backtests. Import the module you need (``bots.services.catalog``)."""
