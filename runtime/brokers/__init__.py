"""Brokers a runtime trades through: `SimulatedBroker` (embedded default) and `AlpacaBroker`."""
