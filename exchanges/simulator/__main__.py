"""``python -m exchanges.simulator --port 8900``: the simulator on its own, with demo accounts.

It prints the base URL and the demo accounts' keys. They are the simulator's own fake keys,
valid nowhere else; real exchange credentials never reach this process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

from exchanges.simulator.control import account_json
from exchanges.simulator.markets import PROTOCOLS
from exchanges.simulator.server import start
from exchanges.simulator.simulator import Simulator


def _describe(sim: Simulator) -> str:
    lines = [f"Exchange simulator listening on {sim.base_url}", "  (control API: GET/POST {base}/_sim/...)", ""]
    lines[1] = lines[1].format(base=sim.base_url)
    lines.append("Demo accounts (fake keys, simulator only):")
    for name in PROTOCOLS:
        for account in sim.venue(name).accounts.values():
            lines.append(f"  {name}:")
            for label, value in (
                ("api key", account.api_key),
                ("secret", account.secret),
                ("passphrase", account.passphrase),
                ("public key", account.public_key),
                ("private key", account.private_key),
            ):
                if value:
                    lines.append(f"    {label:<12} {value}")
            balances = ", ".join(f"{asset} {amount}" for asset, amount in sorted(account.free.items()))
            lines.append(f"    {'balances':<12} {balances}")
    return "\n".join(lines)


def _as_json(sim: Simulator) -> str:
    accounts = [account_json(a, credentials=True) for name in PROTOCOLS for a in sim.venue(name).accounts.values()]
    return json.dumps({"base_url": sim.base_url, "accounts": accounts})


async def _serve(host: str, port: int, *, as_json: bool) -> None:
    sim = Simulator(demo_accounts=True)
    runner = await start(sim, host=host, port=port)
    print(_as_json(sim) if as_json else _describe(sim), flush=True)
    try:
        await asyncio.Event().wait()  # until interrupted
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m exchanges.simulator", description=__doc__)
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; the /_sim/ control API has no authentication)",
    )
    parser.add_argument("--port", type=int, default=8900, help="port to listen on, 0 for any free port")
    parser.add_argument("--json", action="store_true", help="print the base URL and demo accounts as one JSON line")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, as_json=args.json))


if __name__ == "__main__":
    main()
