"""Choose the runtime's broker from settings: `SimulatedBroker` or `AlpacaBroker` (FARM_BROKER).

alpaca-py is imported only when Alpaca is selected, so a local runtime never loads it. Alpaca
keys come from the environment (shared.alpaca.credentials), never from documents or settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import backtrader as bt

from runtime.brokers.simulated import SimulatedBroker
from shared.ports.documents import DocumentStore
from shared.settings import Settings


def make_broker(
    settings: Settings, documents: DocumentStore, session: dict[str, Any], feeds: Sequence[bt.AbstractDataBase],
    *, slippage: float = 0.0005, commission: float = 0.0,
) -> bt.BrokerBase:
    """The broker `settings.runtime_broker` names, for `session`'s account and `feeds`."""
    if settings.runtime_broker == "alpaca":
        from runtime.brokers.alpaca import AlpacaBroker
        from shared.alpaca.credentials import AlpacaCredentials

        broker = AlpacaBroker(AlpacaCredentials.from_env(), datas=feeds, base_url=settings.alpaca_trading_url,
                              stream_url=settings.alpaca_trading_stream_url)
        broker.setcommission(commission=commission)  # Alpaca paper charges none; keep a scheme set anyway
        return broker
    return SimulatedBroker(documents, session["account_id"], datas=feeds, slippage=slippage, commission=commission)
