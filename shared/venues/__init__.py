"""Trading venues, one folder each with the same files: `alpaca/` and `simulated/`.

    accounts.py     open, fund and read agents' paper accounts (the `BrokerAccounts` port)
    execution.py    the backtrader broker trading ONE account (a paper session's)
    market_data.py  market-data streams (Alpaca's WebSocket client / the local replay server)
    protocol.py     wire shapes and codecs
    config.py       keys, URLs, symbols, fill model

`settings.runtime_broker` names the venue (FARM_BROKER; Alpaca on GCP, simulated locally), and
these two functions are the only place that chooses: accounts and the runtime's broker always
come from the same venue. A venue's modules are imported only when chosen, so a local process
never loads alpaca-py's trading and broker clients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import backtrader as bt

from shared.ports.broker import BrokerAccounts
from shared.ports.documents import DocumentStore
from shared.settings import Settings


def broker_accounts(settings: Settings, documents: DocumentStore) -> BrokerAccounts:
    """The accounts adapter of the venue `settings` trade on (Alpaca keys from the environment)."""
    if settings.runtime_broker == "alpaca":
        from shared.venues.alpaca.accounts import AlpacaBrokerAccounts

        return AlpacaBrokerAccounts.from_env(documents)
    from shared.venues.simulated.accounts import SimulatedAccounts

    return SimulatedAccounts(documents)


def make_broker(
    settings: Settings, documents: DocumentStore, session_id: str, session: Mapping[str, Any],
    feeds: Sequence[bt.AbstractDataBase], *, slippage: float = 0.0005, commission: float = 0.0,
) -> bt.BrokerBase:
    """The broker trading `session`'s own account (fixed when the session started) with `feeds`."""
    if settings.runtime_broker == "alpaca":
        from shared.venues.alpaca.accounts import alpaca_account_of
        from shared.venues.alpaca.config import BrokerApiConfig
        from shared.venues.alpaca.execution import AlpacaBroker

        account = alpaca_account_of(documents, session["account_id"])
        broker = AlpacaBroker(BrokerApiConfig.from_env(), account, session_id, account_id=session["account_id"],
                              datas=feeds)
        broker.setcommission(commission=commission)  # Alpaca paper charges none; keep a scheme set anyway
        return broker
    from shared.venues.simulated.execution import SimulatedBroker

    return SimulatedBroker(documents, session["account_id"], datas=feeds, session_id=session_id, slippage=slippage,
                           commission=commission)
