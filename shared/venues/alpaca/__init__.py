"""The Alpaca venue: Broker API accounts, per-account execution, market-data streams, protocol, config."""
