"""A local fake of the Cloud Build API v1 (REST): builds.create and builds.get.

Real HTTP on 127.0.0.1 speaking Google's JSON, global and regional paths alike:
`POST /v1/projects/P[/locations/R]/builds` answers a long-running `Operation` whose metadata
(`BuildOperationMetadata`) carries the new build, and `GET /v1/projects/P[/locations/R]/builds/ID`
answers the build, or Google's error envelope (404) for an id it never created.

A build "runs" as the job stand-in `tests.unit.backtest.sandbox_probe` does for its run id (the
`_RUN_ID` substitution), so one contract suite drives the local launcher and this one alike:
`report-*` ends SUCCESS, `crash-*` ends FAILURE, `loop-*` keeps WORKING. A build is QUEUED when
created and WORKING from its first read, and reaches its end on the read after that.
`requests` records each (method, path) received; `builds` keeps every build as submitted.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any, Self

from tests.fakes.json_http import JsonHandler, serve, stop

PROJECT = "farm-fake"
_BUILDS = re.compile(r"^/v1/projects/(?P<project>[^/]+)(?:/locations/(?P<region>[^/]+))?/builds(?:/(?P<id>[^/:]+))?$")
_METADATA_TYPE = "type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata"


class FakeCloudBuild:
    """The builds collection of one fake Cloud Build, served on a free port in a thread."""

    def __init__(self) -> None:
        self.builds: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self._reads: dict[str, int] = {}
        self._lock = threading.Lock()
        fake = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                self.send_json(*fake.answer("POST", self.path, body))

            def do_GET(self) -> None:
                self.send_json(*fake.answer("GET", self.path, None))

        self._server, self._thread = serve(Handler, name="fake-cloud-build")

    @property
    def endpoint(self) -> str:
        """The base URL to give the client as its API endpoint."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def answer(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        """The status and JSON body Cloud Build would send for `method path`."""
        with self._lock:
            self.requests.append((method, path))
            match = _BUILDS.match(path.split("?", 1)[0])
            if match is None:
                return 404, _error(404, f"no route for {path}")
            if method == "POST" and match["id"] is None:
                return 200, self._create(match["project"], match["region"], body or {})
            if method == "GET" and match["id"] is not None:
                return self._get(match["id"])
            return 404, _error(404, f"no route for {method} {path}")

    def close(self) -> None:
        """Stop serving."""
        stop(self._server, self._thread)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _create(self, project: str, region: str | None, build: dict[str, Any]) -> dict[str, Any]:
        build_id = str(uuid.uuid4())
        build = {**build, "id": build_id, "projectId": project, "status": "QUEUED"}
        self.builds[build_id] = build
        self._reads[build_id] = 0
        location = f"projects/{project}/locations/{region or 'global'}"
        return {"name": f"{location}/operations/{uuid.uuid4().hex}", "done": False,
                "metadata": {"@type": _METADATA_TYPE, "build": build}}

    def _get(self, build_id: str) -> tuple[int, dict[str, Any]]:
        build = self.builds.get(build_id)
        if build is None:
            return 404, _error(404, f"build {build_id} not found")
        self._reads[build_id] += 1
        run_id = build.get("substitutions", {}).get("_RUN_ID", "")
        if self._reads[build_id] == 1 or run_id.startswith("loop"):
            build["status"] = "WORKING"
        else:
            build["status"] = "SUCCESS" if run_id.startswith("report") else "FAILURE"
        return 200, build


def _error(status: int, message: str) -> dict[str, Any]:
    names = {404: "NOT_FOUND", 400: "INVALID_ARGUMENT"}
    return {"error": {"code": status, "message": message, "status": names.get(status, "UNKNOWN")}}
