"""Adapters by exchange id. ccxt exchanges come from ccxt itself; others (Robinhood,
paper, a custom exchange) register here, the way a user adds their own:

    from exchanges.adapters.registry import register

    @register("myexchange", name="My Exchange", regions=("global",))
    class MyExchangeAdapter(ExchangeAdapter): ...

Modules listed in the ``EXCHANGE_ADAPTER_MODULES`` setting are imported at start-up so
their ``@register`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchanges.adapters.base import ExchangeAdapter


@dataclass(frozen=True)
class Registration:
    exchange_id: str
    adapter_class: type[ExchangeAdapter]
    name: str
    regions: tuple[str, ...]


_registry: dict[str, Registration] = {}


def register(exchange_id: str, *, name: str, regions: tuple[str, ...] = ("global",)):
    def decorator(cls: type[ExchangeAdapter]) -> type[ExchangeAdapter]:
        cls.exchange_id = exchange_id
        cls.name = name
        _registry[exchange_id] = Registration(exchange_id, cls, name, tuple(regions))
        return cls

    return decorator


def registered() -> dict[str, Registration]:
    return dict(_registry)


def get_registration(exchange_id: str) -> Registration | None:
    return _registry.get(exchange_id)
