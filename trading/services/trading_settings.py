"""A tenant's trading settings: the kill switch, the quote currency and the limits."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from trading.models import TradingSettings

_CURRENCY = re.compile(r"^[A-Z0-9]{2,10}$")
FIELDS = ("kill_switch", "kill_switch_reason", "quote_currency", "max_position_notional", "max_order_notional")


def trading_settings_get(*, tenant) -> TradingSettings:
    """The tenant's settings row, made with the defaults on first use."""
    row, _ = TradingSettings.objects.get_or_create(tenant=tenant)
    return row


def quote_currency_clean(code) -> str:
    code = str(code or "").strip().upper()
    if not _CURRENCY.match(code):
        raise ValidationError({"quote_currency": "Give a currency code such as USDT, USD or EUR."})
    return code


def _clean(changes: dict) -> dict:
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValidationError({name: "Not a trading setting." for name in sorted(unknown)})
    if "quote_currency" in changes:
        changes["quote_currency"] = quote_currency_clean(changes["quote_currency"])
    for name in ("max_position_notional", "max_order_notional"):
        if changes.get(name) is not None and changes[name] <= 0:
            raise ValidationError({name: "A limit must be greater than zero (or null for none)."})
    return changes


def trading_settings_update(*, tenant, **changes) -> TradingSettings:
    """Change some settings. Turning the kill switch off clears its reason unless one is given."""
    changes = _clean(dict(changes))
    if changes.get("kill_switch") is False and "kill_switch_reason" not in changes:
        changes["kill_switch_reason"] = ""
    with transaction.atomic():
        row = trading_settings_get(tenant=tenant)
        row = TradingSettings.objects.select_for_update().get(pk=row.pk)
        for name, value in changes.items():
            setattr(row, name, value)
        row.save()
    return row


def kill_switch_set(*, tenant, on: bool, reason: str = "") -> TradingSettings:
    """Halt (``on``) or resume every new order of the tenant; protective orders still run."""
    return trading_settings_update(tenant=tenant, kill_switch=on, kill_switch_reason=reason[:200] if on else "")
