"""Row locks, always taken in one order: the account, then its orders, then its balance
rows by asset. Every write of a paper account starts by locking the account row, so
two processes (web, workers) never interleave on one account and never deadlock."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from exchanges.adapters.errors import InsufficientFunds
from exchanges.paper.markets import EXCHANGE_ID, plain
from exchanges.paper.models import PaperAccount, PaperBalance


def lock_account(account_id: int) -> PaperAccount:
    return PaperAccount.objects.select_for_update().get(pk=account_id)


class Wallet:
    """Some of an account's balance rows, locked until the transaction ends."""

    def __init__(self, account: PaperAccount, assets: Iterable[str]):
        assets = sorted({asset for asset in assets if asset})
        PaperBalance.objects.bulk_create(
            [PaperBalance(account=account, asset=asset) for asset in assets], ignore_conflicts=True
        )
        locked = PaperBalance.objects.select_for_update().filter(account=account, asset__in=assets).order_by("asset")
        self.rows = {row.asset: row for row in locked}
        self._changed: set[str] = set()

    def free(self, asset: str) -> Decimal:
        return self.rows[asset].free

    def debit(self, asset: str, amount: Decimal) -> None:
        row = self.rows[asset]
        if amount > row.free:
            raise InsufficientFunds(
                f"{plain(amount):f} {asset} needed, {plain(row.free):f} {asset} free", exchange=EXCHANGE_ID
            )
        row.free -= amount
        self._changed.add(asset)

    def credit(self, asset: str, amount: Decimal) -> None:
        self.rows[asset].free += amount
        self._changed.add(asset)

    def reserve(self, asset: str, amount: Decimal) -> None:
        self.debit(asset, amount)
        self.rows[asset].used += amount

    def release(self, asset: str, amount: Decimal) -> None:
        row = self.rows[asset]
        amount = min(amount, row.used)
        row.used -= amount
        row.free += amount
        self._changed.add(asset)

    def save(self) -> None:
        if self._changed:
            PaperBalance.objects.bulk_update([self.rows[asset] for asset in sorted(self._changed)], ["free", "used"])
            self._changed.clear()
