"""Bot catalog, marketplace, uploads, SDK, runtime, subscriptions and backtests."""
