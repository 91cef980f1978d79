"""Live pushes to the tenant's dashboards: signals and backtest progress. Never blocking."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def _publish(tenant_id: int, event: str, data: dict, key=None) -> None:
    from dashboard.events import tenant_event_publish

    try:
        tenant_event_publish(tenant_id=tenant_id, event=event, data=data, wait=False, key=key)
    except Exception:  # a push is a nicety; the row is the truth
        log.warning("could not push %s to tenant %s", event, tenant_id, exc_info=True)


def signal_publish(*, signal, subscription) -> None:
    _publish(subscription.tenant_id, "signal", {
        "subscription": subscription.pk, "name": subscription.name, "symbol": subscription.symbol,
        "action": signal.action, "price": None if signal.price is None else str(signal.price),
        "reason": signal.reason, "outcome": signal.outcome, "detail": signal.detail, "order": signal.order_id,
        "candle_at": signal.candle_at,
    })  # fmt: skip


def backtest_publish(*, backtest) -> None:
    _publish(backtest.tenant_id, "backtest", {
        "id": backtest.pk, "status": backtest.status, "progress": backtest.progress, "error": backtest.error,
        "figures": {k: v for k, v in (backtest.figures or {}).items() if k != "equity_curve"},
    }, key=("backtest", backtest.pk))  # fmt: skip
