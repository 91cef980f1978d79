"""The shared resilience layer: rate-limit budgets, circuit breakers and health per
exchange and per connection, kept in Redis so every worker and process shares them.

- ratelimit: ``limiter.acquire/penalize/state``, a token bucket per key (one Lua script,
  Redis clock); ``budget_from_ccxt`` turns ccxt's ``rateLimit`` into a budget.
- ccxt_budget: ``install_on_ccxt`` makes every request of a ccxt instance pay its ccxt
  cost from the shared budget (public or API key) and penalizes on 429/418.
- breaker: ``breaker.before_call/record_success/record_failure/state``, ``CircuitOpen``
  (the instances ``breaker.breaker`` and ``health.health`` are not re-exported here: they
  would shadow their modules).
- health: ``record``, ``summary``, ``summary_sync``: p50 latency, last error, status.
- guard: ``guarded``/``guarded_call`` wrap one exchange call in all of the above.
- keys: ``venue_key``, ``connection_key``, ``api_key_key``: the platform's key names;
  ``adapter_keys(adapter, method)``: the guard's keys for one adapter call.

Redis keys (prefix: settings.RESILIENCE_KEY_PREFIX, default "resilience"):
``<p>:rl:<key>`` (+ ``:n:<second>`` counters), ``<p>:cb:<key>`` (+ ``:probe``),
``<p>:hl:<key>`` (+ ``:lat``). Settings and their defaults: exchanges.resilience.conf.
"""

from exchanges.resilience.breaker import CircuitBreaker, CircuitOpen, breaker_state_sync
from exchanges.resilience.ccxt_budget import install_on_ccxt, on_rate_limited
from exchanges.resilience.guard import guarded, guarded_call
from exchanges.resilience.health import Health, record, summary, summary_sync
from exchanges.resilience.keys import adapter_keys, api_key_key, connection_key, venue_key
from exchanges.resilience.ratelimit import RateLimiter, budget_from_ccxt, limiter

__all__ = [
    "CircuitBreaker",
    "CircuitOpen",
    "Health",
    "RateLimiter",
    "adapter_keys",
    "api_key_key",
    "breaker_state_sync",
    "budget_from_ccxt",
    "connection_key",
    "guarded",
    "guarded_call",
    "install_on_ccxt",
    "limiter",
    "on_rate_limited",
    "record",
    "summary",
    "summary_sync",
    "venue_key",
]
