"""Alpaca's market-data WebSocket protocol, shared by the ingester (client) and the replay server."""

from shared.alpaca.protocol import (
    CRYPTO_PATH,
    NEWS_PATH,
    MalformedFrameError,
    decode_frame,
    encode_frame,
    stock_path,
)

__all__ = [
    "CRYPTO_PATH",
    "NEWS_PATH",
    "MalformedFrameError",
    "decode_frame",
    "encode_frame",
    "stock_path",
]
