"""Which exchanges exist, where they may be used, what they need and what they can do.

The list comes from ccxt (``ccxt.exchanges``) plus the adapter registry (Robinhood, paper,
custom exchanges). The seed exchanges' regions are the product's; another ccxt exchange is
offered in ``global``, and also in ``us`` / ``eu`` when ccxt lists it in those countries.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from exchanges.adapters.ccxt_catalog import ccxt_describe, ccxt_exchange_ids, is_ccxt_exchange
from exchanges.adapters.registry import registered
from exchanges.adapters.types import Capabilities

US, EU, GLOBAL = "us", "eu", "global"

SEED_REGIONS: dict[str, tuple[str, ...]] = {
    "robinhood": (US,),
    "coinbase": (US, EU),
    "kraken": (US, EU, GLOBAL),
    "binanceus": (US,),
    "kucoin": (US, EU, GLOBAL),
    "binance": (EU, GLOBAL),
    "bitstamp": (EU,),
    "bybit": (GLOBAL,),
    "okx": (GLOBAL,),
    "bitget": (GLOBAL,),
    "gate": (GLOBAL,),
    "bingx": (GLOBAL,),
}
SEED_EXCHANGES = tuple(SEED_REGIONS)
ALIASES = {"gateio": "gate", "binance.us": "binanceus", "gate.io": "gate"}

_EU_COUNTRIES = {"EU", "GB", "UK", "DE", "FR", "NL", "IE", "LU", "MT", "LT", "EE", "AT", "IT", "ES", "PL", "SI", "CY"}


@dataclass(frozen=True)
class ExchangeInfo:
    id: str
    name: str
    regions: tuple[str, ...]
    required_credentials: tuple[str, ...]
    capabilities: Capabilities
    seed: bool
    via: str  # "ccxt" or "adapter"
    has_testnet: bool


def canonical_id(exchange_id: str) -> str:
    text = (exchange_id or "").strip().lower()
    return ALIASES.get(text, text)


def _ccxt_regions(ccxt_id: str) -> tuple[str, ...]:
    if ccxt_id in SEED_REGIONS:
        return SEED_REGIONS[ccxt_id]
    countries = set(ccxt_describe(ccxt_id)["countries"])
    regions = [GLOBAL]
    if "US" in countries:
        regions.insert(0, US)
    if countries & _EU_COUNTRIES:
        regions.insert(-1, EU)
    return tuple(regions)


@cache
def exchange_info(exchange_id: str) -> ExchangeInfo | None:
    """Everything the catalog knows about one exchange, or None if it does not exist."""
    from exchanges.factory import adapter_class

    exchange_id = canonical_id(exchange_id)
    registration = registered().get(exchange_id)
    if registration is not None:
        cls = registration.adapter_class
        return ExchangeInfo(
            id=exchange_id,
            name=registration.name,
            regions=SEED_REGIONS.get(exchange_id, registration.regions),
            required_credentials=tuple(cls.required_credentials),
            capabilities=cls().capabilities(),
            seed=exchange_id in SEED_REGIONS,
            via="adapter",
            has_testnet=False,
        )
    if not is_ccxt_exchange(exchange_id):
        return None
    described = ccxt_describe(exchange_id)
    return ExchangeInfo(
        id=exchange_id,
        name=described["name"],
        regions=_ccxt_regions(exchange_id),
        required_credentials=described["required"],
        capabilities=adapter_class(exchange_id)().capabilities(),
        seed=exchange_id in SEED_REGIONS,
        via="ccxt",
        has_testnet=described["testnet"],
    )


def supported_exchanges(region: str | None = None) -> list[ExchangeInfo]:
    """Seed exchanges first (in the product's order), then the rest by name."""
    ids = dict.fromkeys([*SEED_EXCHANGES, *registered(), *ccxt_exchange_ids()])
    infos = [info for info in map(exchange_info, ids) if info is not None]
    if region:
        infos = [info for info in infos if region in info.regions]
    return sorted(infos, key=lambda i: (not i.seed, SEED_EXCHANGES.index(i.id) if i.seed else 0, i.name.lower()))


class RegionNotAllowed(ValueError):
    pass


def check_region(exchange_id: str, region: str) -> ExchangeInfo:
    """The exchange's info if a tenant in ``region`` may use it; else a clear refusal."""
    info = exchange_info(exchange_id)
    if info is None:
        raise LookupError(f"Unknown exchange {exchange_id!r}. GET /api/v1/exchanges/supported/ lists them.")
    if region not in info.regions:
        allowed = ", ".join(i.id for i in supported_exchanges(region) if i.seed)
        raise RegionNotAllowed(
            f"{info.name} is not available in region {region!r} (available there: {allowed}, and more)."
        )
    return info
