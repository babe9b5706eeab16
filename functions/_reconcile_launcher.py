"""The reconciliation job launcher a function process shares: built on first use, closed by `farm up`.

Locally a `LocalReconciliationLauncher` (subprocesses it supervises, so one instance per
process); on gcp a Cloud Build per reconciliation from `jobs/cloudbuild.reconcile.yaml`.
"""

from __future__ import annotations

import threading
from pathlib import Path

from shared.bootstrap import Platform
from shared.services.reconciliations import ReconciliationLauncher, finish_reconciliation

CONFIG = Path(__file__).resolve().parents[1] / "jobs" / "cloudbuild.reconcile.yaml"
_lock = threading.Lock()
_launchers: dict[int, tuple[Platform, ReconciliationLauncher]] = {}


def reconcile_launcher_for(platform: Platform) -> ReconciliationLauncher:
    """Return the platform's reconciliation launcher, built on first use (never at import) and kept."""
    with _lock:
        entry = _launchers.get(id(platform))
        if entry is None or entry[0] is not platform:
            entry = _launchers[id(platform)] = (platform, _build(platform))
        return entry[1]


def close_reconcile_launcher(platform: Platform) -> None:
    """Kill the reconciliation jobs `platform`'s launcher still runs (they are marked failed)."""
    with _lock:
        entry = _launchers.pop(id(platform), None)
    close = getattr(entry[1], "close", None) if entry is not None and entry[0] is platform else None
    if callable(close):
        close()


def _build(platform: Platform) -> ReconciliationLauncher:
    settings = platform.settings
    if settings.backend == "gcp":
        from shared.adapters.gcp.cloud_build import CloudBuildJobLauncher

        assert settings.gcp_project  # Settings guarantees it for the gcp backend
        return CloudBuildJobLauncher(settings.gcp_project, region=settings.gcp_region,  # type: ignore[return-value]
                                     bucket=settings.blob_bucket, config_path=CONFIG)
    from shared.adapters.local.job_launcher import JobLimits
    from shared.adapters.local.reconcile_launcher import LocalReconciliationLauncher

    def failed(reconciliation_id: str, reason: str) -> None:
        finish_reconciliation(platform.documents, reconciliation_id, error=reason)

    return LocalReconciliationLauncher(platform.messages, Path(settings.data_dir), on_failed=failed,
                                       limits=JobLimits(budget_s=float(settings.backtest_budget_s)))
