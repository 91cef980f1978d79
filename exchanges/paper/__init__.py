"""The paper exchange: no keys, no network, fills against a simulated market."""
