"""The simulated venue: accounts in the documents port, fills on the bus's bars, the local replay server."""
