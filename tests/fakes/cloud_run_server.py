"""A local fake of the Cloud Run Admin API v2 (REST): services.list and services.get.

Real HTTP on 127.0.0.1 speaking Google's JSON: `GET /v2/projects/P/locations/R/services`
(`pageSize`, `pageToken` -> `{"services": [...], "nextPageToken"}`) and
`GET /v2/projects/P/locations/R/services/NAME`, with Google's error envelope
(`{"error": {"code", "message", "status"}}`) for unknown services (404) and projects the
caller may not read (403). Enums are sent as numbers when the client asks for
`$alt=json;enum-encoding=int`, as google-cloud-run's REST transport does.
`fail_next` makes the next requests fail with a given status; `requests` records each
(path, query, Authorization header) received.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes.json_http import GOOGLE_JSON, JsonHandler, google_error, serve, stop

# Numeric values of the enums a service carries (google/cloud/run/v2/condition.proto etc.).
ENUMS: dict[str, dict[str, int]] = {
    "state": {"STATE_UNSPECIFIED": 0, "CONDITION_PENDING": 1, "CONDITION_RECONCILING": 2,
              "CONDITION_FAILED": 3, "CONDITION_SUCCEEDED": 4},
    "severity": {"SEVERITY_UNSPECIFIED": 0, "ERROR": 1, "WARNING": 2, "INFO": 3},
    "reason": {"COMMON_REASON_UNDEFINED": 0, "UNKNOWN": 1, "REVISION_FAILED": 3,
               "PROGRESS_DEADLINE_EXCEEDED": 4, "CONTAINER_MISSING": 6},
    "revisionReason": {"REVISION_REASON_UNDEFINED": 0, "PENDING": 1, "HEALTH_CHECK_CONTAINER_ERROR": 6},
    "ingress": {"INGRESS_TRAFFIC_UNSPECIFIED": 0, "INGRESS_TRAFFIC_ALL": 1},
    "launchStage": {"LAUNCH_STAGE_UNSPECIFIED": 0, "GA": 4},
    "type": {"TRAFFIC_TARGET_ALLOCATION_TYPE_UNSPECIFIED": 0, "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST": 1},
}


def gen2_service(project: str, region: str, name: str, *, revision: str | None = "00001-abc",
                 ready: bool = True, reason: str | None = None, message: str = "",
                 created_revision: str | None = None) -> dict[str, Any]:
    """A service as Cloud Run returns it for a Gen2 function (`ready=False` -> a failed rollout)."""
    base = f"projects/{project}/locations/{region}"
    ready_rev = f"{base}/revisions/{name}-{revision}" if revision else ""
    created_rev = f"{base}/revisions/{name}-{created_revision or revision or '00001-new'}"
    terminal: dict[str, Any] = {"type": "Ready", "lastTransitionTime": "2025-01-02T03:04:05.123456Z"}
    if ready:
        terminal["state"] = "CONDITION_SUCCEEDED"
    else:
        terminal |= {"state": "CONDITION_FAILED", "message": message, "severity": "ERROR"}
        if reason:
            terminal["reason"] = reason
    uri = f"https://{name}-7a3kq2xbcd-{region[:2]}.a.run.app"
    return {
        "name": f"{base}/services/{name}",
        "uid": f"uid-{name}",
        "generation": "3",
        "labels": {"goog-managed-by": "cloudfunctions", "goog-cloudfunctions-runtime": "python311"},
        "annotations": {"run.googleapis.com/build-function-target": name},
        "createTime": "2025-01-01T00:00:00.000000Z",
        "updateTime": "2025-01-02T03:04:00.000000Z",
        "creator": "deployer@example.iam.gserviceaccount.com",
        "lastModifier": "deployer@example.iam.gserviceaccount.com",
        "ingress": "INGRESS_TRAFFIC_ALL",
        "launchStage": "GA",
        "template": {"containers": [{"image": f"{region}-docker.pkg.dev/{project}/gcf-artifacts/{name}:v",
                                     "resources": {"limits": {"cpu": "0.1666", "memory": "256Mi"}}}],
                     "maxInstanceRequestConcurrency": 1, "timeout": "60s"},
        "traffic": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        "observedGeneration": "3",
        "terminalCondition": terminal,
        "conditions": [{"type": "RoutesReady", "state": terminal["state"],
                        "lastTransitionTime": terminal["lastTransitionTime"]}],
        "latestReadyRevision": ready_rev,
        "latestCreatedRevision": created_rev,
        "trafficStatuses": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        "uri": uri,
        "urls": [uri],
        "etag": f'"etag-{name}"',
    }


class FakeCloudRun:
    """Serve `services[(project, region)] = [service JSON, ...]` until `close()`."""

    def __init__(self, *, page_size: int = 5) -> None:
        self.services: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.page_size = page_size  # small, so listings of a whole registry span pages
        self.requests: list[tuple[str, dict[str, list[str]], str | None]] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                fake.requests.append((url.path, query, self.headers.get("Authorization")))
                status, body = fake.answer(url.path, query)
                if "enum-encoding=int" in ";".join(query.get("$alt", [])):
                    body = _ints(body)
                self.send_json(status, body, GOOGLE_JSON)

        self.server, self.thread = serve(Handler, poll_s=0.05)

    @property
    def endpoint(self) -> str:
        """The `api_endpoint` to give the client (plain http on a free port)."""
        return f"http://127.0.0.1:{self.server.server_port}"

    def deploy(self, project: str, region: str, service: dict[str, Any]) -> None:
        """Add (or replace) one service."""
        listed = self.services.setdefault((project, region), [])
        listed[:] = [s for s in listed if s["name"] != service["name"]] + [service]

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next `times` requests with `status` and Google's error envelope."""
        with self._lock:
            self._failures += [status] * times

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        """The status and JSON body Cloud Run would send for GET `path`."""
        with self._lock:
            if self._failures:
                status = self._failures.pop(0)
                return status, google_error(status, "The service is currently unavailable.")
        parts = path.strip("/").split("/")
        if len(parts) not in (6, 7) or parts[:2] != ["v2", "projects"] or parts[3] != "locations" \
                or parts[5] != "services":
            return 404, google_error(404, f"The requested URL {path} was not found on this server.")
        project, region = parts[2], parts[4]
        if project not in {p for p, _ in self.services}:
            return 403, google_error(403, f"Permission 'run.services.{'get' if len(parts) == 7 else 'list'}' "
                                    f"denied on resource 'projects/{project}' (or it may not exist).")
        listed = sorted(self.services.get((project, region), []), key=lambda s: s["name"])
        if len(parts) == 7:
            found = [s for s in listed if s["name"].endswith(f"/services/{parts[6]}")]
            if not found:
                return 404, google_error(404, f"Resource '{parts[6]}' of kind 'SERVICE' in region '{region}' "
                                        f"in project '{project}' does not exist.")
            return 200, found[0]
        size = min(int((query.get("pageSize") or [self.page_size])[0]) or self.page_size, self.page_size)
        start = int((query.get("pageToken") or ["0"])[0] or 0)
        body: dict[str, Any] = {"services": listed[start:start + size]}
        if start + size < len(listed):
            body["nextPageToken"] = str(start + size)
        return 200, body if listed else {}

    def close(self) -> None:
        """Stop serving and release the port."""
        stop(self.server, self.thread)


def _ints(value: Any, key: str = "") -> Any:
    """`value` with enum strings replaced by their numbers (enum-encoding=int)."""
    if isinstance(value, dict):
        return {k: _ints(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v, key) for v in value]
    if isinstance(value, str) and key in ENUMS and value in ENUMS[key]:
        return ENUMS[key][value]
    return value
