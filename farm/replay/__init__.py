"""A local market-data server speaking Alpaca's WebSocket protocol, replaying stored or synthetic bars."""

from farm.replay.server import ReplayServer, ReplayServerThread
from farm.replay.source import SyntheticTimeline, WarehouseTimeline

__all__ = ["ReplayServer", "ReplayServerThread", "SyntheticTimeline", "WarehouseTimeline"]
