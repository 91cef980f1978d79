"""Checks of what a user types about an exchange: each failure names its field."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from exchanges.adapters.types import Credentials
from exchanges.catalog import ExchangeInfo, RegionNotAllowed, check_region

# Accepted spellings of credential fields -> ccxt's names.
CREDENTIAL_ALIASES = {
    "apikey": "apiKey", "api_key": "apiKey", "key": "apiKey",
    "secret": "secret", "api_secret": "secret", "secretkey": "secret", "secret_key": "secret",
    "password": "password", "passphrase": "password", "api_passphrase": "password",
    "uid": "uid", "privatekey": "privateKey", "private_key": "privateKey",
    "walletaddress": "walletAddress", "wallet_address": "walletAddress",
    "accountid": "accountId", "account_id": "accountId", "login": "login", "token": "token", "twofa": "twofa",
}  # fmt: skip


def exchange_for_region(exchange: str, region: str) -> ExchangeInfo:
    try:
        return check_region(exchange, region)
    except LookupError as exc:
        raise ValidationError({"exchange": str(exc)}) from None
    except RegionNotAllowed as exc:
        raise ValidationError({"exchange": str(exc)}) from None


def credentials_from(data: dict | None, *, info: ExchangeInfo, partial: bool = False) -> Credentials:
    """Credentials under ccxt's names; unknown fields and missing required ones are refused.

    With ``partial``, missing fields are allowed (an update keeps the stored ones).
    """
    data = data or {}
    if not isinstance(data, dict):
        raise ValidationError(
            {"credentials": 'Give the credentials as an object, e.g. {"apiKey": ..., "secret": ...}.'}
        )
    values: dict[str, str] = {}
    for key, value in data.items():
        name = CREDENTIAL_ALIASES.get(str(key).replace("-", "_").lower())
        if name is None:
            raise ValidationError({"credentials": f"Unknown credential field {key!r}."})
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise ValidationError({"credentials": f"The credential field {key!r} must be a string."})
        values[name] = value.strip()
    if not partial:
        missing = [name for name in info.required_credentials if not values.get(name)]
        if missing:
            raise ValidationError(
                {"credentials": f"{info.name} needs {', '.join(missing)} (missing: {', '.join(missing)})."}
            )
    return Credentials(**values)


def api_base_url_clean(value: str | None) -> str:
    """'' or an http(s) URL whose host an operator allowed (EXCHANGE_ALLOWED_API_HOSTS)."""
    value = (value or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            {"api_base_url": "Must be an http:// or https:// URL, e.g. https://testnet.binance.vision."}
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValidationError({"api_base_url": "Must be a plain scheme://host[:port][/path] URL."})
    allowed = [host.lower() for host in settings.EXCHANGE_ALLOWED_API_HOSTS]
    if parts.hostname.lower() not in allowed:
        raise ValidationError(
            {"api_base_url": f"The host {parts.hostname!r} is not an allowed API host; an operator can allow it."}
        )
    return value.rstrip("/")
