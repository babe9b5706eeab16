"""CloudBuildJobLauncher: one Cloud Build per backtest, from `jobs/cloudbuild.backtest.yaml`.

The build config is read from the repository (the same file operators review) and sent with
the run's substitutions, to run as the backtest's own service account (terraform/iam.tf: what
the trusted `host` step may do; the sandboxed `agent` step has no network to use it from). The
client is created on first launch, never at import time; `endpoint` points it at another API
host over REST (a local fake over plain http gets anonymous credentials, so no real token ever
travels unencrypted). Google API errors become `shared.errors` types (shared.adapters.gcp.errors).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import yaml

from shared.adapters.gcp.errors import CLOUD_BUILD
from shared.errors import InvalidInputError, NotFoundError
from shared.ports.jobs import JobHandle, JobState
from shared.schemas.messages import RunBacktest

CONFIG = Path(__file__).resolve().parents[3] / "jobs" / "cloudbuild.backtest.yaml"
_STATES: dict[str, JobState] = {
    "PENDING": "queued", "QUEUED": "queued", "WORKING": "running", "SUCCESS": "succeeded",
    "FAILURE": "failed", "INTERNAL_ERROR": "failed", "TIMEOUT": "failed", "CANCELLED": "failed",
    "EXPIRED": "failed",
}
# YAML keys of the build config that differ from the proto-plus field names.
_STEP_KEYS = {"waitFor": "wait_for", "allowFailure": "allow_failure", "dir": "dir_", "secretEnv": "secret_env"}
_OPTION_KEYS = {"substitutionOption": "substitution_option", "machineType": "machine_type"}


class CloudBuildJobLauncher:
    """Submit backtest builds to Cloud Build in `project` (regional when `region` is given)."""

    def __init__(
        self, project: str, *, region: str | None = None, bucket: str, runner_image: str | None = None,
        budget_s: int = 1800, config_path: Path = CONFIG, service_account: str | None = None,
        endpoint: str | None = None, credentials: Any = None,
    ) -> None:
        self.project, self.region, self.bucket = project, region, bucket
        self.endpoint, self.credentials = endpoint, credentials
        self.service_account = service_account or f"farm-backtest@{project}.iam.gserviceaccount.com"
        # Written whole: tests/infra/test_cloudbuild.py finds the images the platform runs by this text.
        default_image = f"{region or 'us-central1'}-docker.pkg.dev/{project}/farm/backtest-runner:latest"
        self.runner_image = runner_image or default_image
        self.budget_s = budget_s
        self.config = yaml.safe_load(config_path.read_text())
        self._client: Any = None
        self._lock = threading.Lock()

    def build_request(self, run: RunBacktest) -> Any:
        """Return the `CreateBuildRequest` for `run` (nothing is sent)."""
        from google.cloud.devtools import cloudbuild_v1 as cb

        if not run.run_id or any(c in run.run_id for c in " /$'\""):
            raise InvalidInputError(f"run id {run.run_id!r} cannot be a build substitution")
        config = self.config
        steps = [cb.BuildStep(**{_STEP_KEYS.get(k, k): v for k, v in step.items()}) for step in config["steps"]]
        options = config.get("options", {})
        build = cb.Build(
            steps=steps,
            timeout=config.get("timeout", "3600s"),
            substitutions={**config.get("substitutions", {}), "_RUN_ID": run.run_id,
                           "_RUNNER_IMAGE": self.runner_image, "_BUDGET_S": str(self.budget_s),
                           "_BUCKET": self.bucket},
            options=cb.BuildOptions(
                # The build config names the enums' members; proto-plus enums are looked up by name.
                logging=cb.BuildOptions.LoggingMode.__members__[options.get("logging", "CLOUD_LOGGING_ONLY")],
                substitution_option=cb.BuildOptions.SubstitutionOption.__members__[
                    options.get("substitutionOption", "MUST_MATCH")
                ],
            ),
            tags=[*config.get("tags", []), f"agent-{_tag(run.agent_id)}"],
            # Not the project's default Cloud Build account: only what a backtest needs.
            service_account=f"projects/{self.project}/serviceAccounts/{self.service_account}",
        )
        parent = f"projects/{self.project}/locations/{self.region}" if self.region else ""
        return cb.CreateBuildRequest(project_id=self.project, parent=parent, build=build)

    def launch(self, run: RunBacktest) -> JobHandle:
        """Submit the build and return its id; TransientError when Cloud Build is unavailable."""
        request = self.build_request(run)
        operation = self._call(lambda client: client.create_build(request=request))
        return JobHandle(job_id=operation.metadata.build.id, run_id=run.run_id, launcher="cloud-build")

    def status(self, job_id: str) -> JobState:
        """Map the build's status onto the port's states; "unknown" for a build Cloud Build does not have."""
        try:
            build = self._call(lambda client: client.get_build(project_id=self.project, id=job_id))
        except NotFoundError:
            return "unknown"
        return _STATES.get(build.status.name, "unknown")

    def close(self) -> None:
        """Builds belong to Cloud Build and run on; close the API client's channel."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.transport.close()

    def _call(self, fn: Any) -> Any:
        with CLOUD_BUILD.translated("build"):
            return fn(self._get_client())

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                from google.cloud.devtools import cloudbuild_v1 as cb

                if self.endpoint is None:
                    self._client = cb.CloudBuildClient(credentials=self.credentials)
                else:
                    from google.auth.credentials import AnonymousCredentials

                    credentials = self.credentials
                    if credentials is None and self.endpoint.startswith("http://"):
                        credentials = AnonymousCredentials()
                    self._client = cb.CloudBuildClient(credentials=credentials, transport="rest",
                                                       client_options={"api_endpoint": self.endpoint})
            return self._client


def _tag(value: str) -> str:
    # Build tags allow [a-zA-Z0-9_.-] only.
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in value)[:100]
