"""The Farm core: domain, ports, services, adapters, settings and the application object (shared.app)."""
