"""Exchange catalog, connections, encrypted credentials, adapters and the exchange simulator."""
