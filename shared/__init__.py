"""The Farm core: domain, ports, services, adapters, settings and bootstrap."""
