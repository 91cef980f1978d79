"""OKX account endpoints: trading balance, currencies, funding balance, fee rates, account config."""

from __future__ import annotations

from exchanges.simulator.common import server_time
from exchanges.simulator.markets import plain
from exchanges.simulator.okx.api import Call, endpoint, ok


@endpoint(private=True)
async def balance(call: Call) -> object:
    balances = call.venue.balances(call.account.api_key)
    wanted = set(call.get("ccy").split(",")) if call.get("ccy") else None
    now = str(server_time(call.request))
    details = []
    for asset, (free, locked) in balances.items():
        if (wanted and asset not in wanted) or (free + locked == 0 and not wanted):
            continue
        total = plain(free + locked)
        details.append(
            {
                "availBal": plain(free),
                "availEq": "",  # empty in a spot (cash) account: ccxt then reads availBal/frozenBal
                "cashBal": total,
                "ccy": asset,
                "crossLiab": "",
                "disEq": total,
                "eq": total,
                "eqUsd": total,
                "frozenBal": plain(locked),
                "interest": "",
                "isoEq": "",
                "isoLiab": "",
                "liab": "",
                "maxLoan": "",
                "mgnRatio": "",
                "notionalLever": "",
                "ordFrozen": plain(locked),
                "twap": "0",
                "uTime": now,
                "upl": "",
                "uplLiab": "",
                "stgyEq": "0",
                "spotInUseAmt": "",
            }
        )
    return ok([{"adjEq": "", "details": details, "imr": "", "isoEq": "", "mgnRatio": "", "totalEq": "", "uTime": now}])


@endpoint(private=True)
async def currencies(call: Call) -> object:
    assets = sorted({a for m in call.venue.markets.values() for a in (m.base, m.quote)})
    return ok(
        [
            {
                "canDep": True,
                "canInternal": True,
                "canWd": True,
                "ccy": asset,
                "chain": "" if asset == "USD" else f"{asset}-{asset}",
                "logoLink": "",
                "mainNet": True,
                "maxFee": "0.0004",
                "maxWd": "1000000",
                "minDep": "0.00000001",
                "minFee": "0.0002",
                "minWd": "0.0005",
                "name": asset,
                "needTag": False,
                "wdTickSz": "8",
            }
            for asset in assets
        ]
    )


@endpoint(private=True)
async def funding_balances(call: Call) -> object:
    return ok([])  # the simulator keeps every balance in the trading account


# --- orders --------------------------------------------------------------------------------


@endpoint(private=True)
async def trade_fee(call: Call) -> object:
    # OKX writes fees as negative rates: what the account pays
    spec = call.venue.spec
    maker, taker = plain(-spec.maker_fee), plain(-spec.taker_fee)
    now = str(server_time(call.request))
    row = {"category": "1", "delivery": "", "exercise": "", "instType": "SPOT", "level": "Lv1", "ts": now}
    return ok([row | {"maker": maker, "taker": taker, "makerU": "", "takerU": "", "makerUSDC": "", "takerUSDC": ""}])


@endpoint(private=True)
async def account_config(call: Call) -> object:
    return ok(
        [
            {
                "acctLv": "1",  # simple mode: spot only
                "autoLoan": False,
                "ctIsoMode": "automatic",
                "greeksType": "PA",
                "level": "Lv1",
                "levelTmp": "",
                "mgnIsoMode": "automatic",
                "posMode": "net_mode",
                "spotOffsetType": "",
                "uid": call.account.number,
                "label": "simulator",
                "roleType": "0",
                "traderInsts": [],
                "spotRoleType": "0",
                "spotTraderInsts": [],
                "opAuth": "0",
                "kycLv": "1",
                "ip": "",
                "perm": "read_only,trade",
                "mainUid": call.account.number,
            }
        ]
    )
