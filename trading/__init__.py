"""Orders, routing, failover, risk, positions, balances and market data polling."""
