"""The application object of one process: its settings, ports and long-lived components.

Every process (functions host, backtest and reconciliation jobs, runtime, ingester, CLI) builds
one `Application` from its `Settings` and closes it when it ends; see `application.py`.
"""

from shared.app.application import Application, deployments

__all__ = ["Application", "deployments"]
