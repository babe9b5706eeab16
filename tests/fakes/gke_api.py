"""A local fake of the GKE API v1 (container.googleapis.com): projects.locations.clusters.get.

Real HTTP on 127.0.0.1 speaking Google's JSON: `GET /v1/projects/P/locations/L/clusters/C`
answers the cluster with its `endpoint` and `masterAuth.clusterCaCertificate` (base64 PEM), as
`gcloud container clusters get-credentials` reads them. The bearer token is looked up in a
`TokenIssuer`; only accounts in `viewers` hold container.clusters.get (401 / 403 / 404 in
Google's error envelope otherwise). `requests` records (path, account or None).
"""

from __future__ import annotations

import base64
from typing import Any

from tests.fakes.google_tokens import TokenIssuer
from tests.fakes.json_http import GOOGLE_JSON, JsonHandler, google_error, serve, stop


def cluster_json(project: str, location: str, name: str, *, endpoint: str, ca_pem: str,
                 private_endpoint: str = "172.16.0.2") -> dict[str, Any]:
    """A cluster as the GKE API returns it (the fields a client needs, and a few around them)."""
    return {
        "name": name,
        "location": location,
        "selfLink": f"https://container.googleapis.com/v1/projects/{project}/locations/{location}/clusters/{name}",
        "endpoint": endpoint,
        "masterAuth": {"clusterCaCertificate": base64.b64encode(ca_pem.encode()).decode()},
        "status": "RUNNING",
        "currentMasterVersion": "1.30.5-gke.1014001",
        "privateClusterConfig": {"enablePrivateNodes": True, "masterIpv4CidrBlock": "172.16.0.0/28",
                                 "privateEndpoint": private_endpoint, "publicEndpoint": endpoint},
        "workloadIdentityConfig": {"workloadPool": f"{project}.svc.id.goog"},
    }


class FakeGkeApi:
    """Serve `clusters[(project, location, name)] = cluster JSON` until `close()`."""

    def __init__(self, issuer: TokenIssuer, *, viewers: set[str]) -> None:
        self.issuer, self.viewers = issuer, viewers
        self.clusters: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str | None]] = []
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                account = fake.issuer.account_of(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
                fake.requests.append((self.path, account))
                status, body = fake.answer(self.path, account)
                self.send_json(status, body, GOOGLE_JSON)

        self.server, self.thread = serve(Handler, poll_s=0.05)

    @property
    def url(self) -> str:
        """The API base URL to configure (plain http on a free port)."""
        return f"http://127.0.0.1:{self.server.server_port}"

    def add_cluster(self, project: str, location: str, name: str, *, endpoint: str, ca_pem: str,
                    private_endpoint: str = "172.16.0.2") -> None:
        """Create (or replace) a cluster."""
        self.clusters[(project, location, name)] = cluster_json(project, location, name, endpoint=endpoint,
                                                                ca_pem=ca_pem, private_endpoint=private_endpoint)

    def answer(self, path: str, account: str | None) -> tuple[int, dict[str, Any]]:
        """The status and JSON body the GKE API would send for GET `path` by `account`."""
        if account is None:
            return 401, google_error(401, "Request had invalid authentication credentials. Expected OAuth 2 access "
                                    "token, login cookie or other valid authentication credential.")
        parts = path.split("?")[0].strip("/").split("/")
        if len(parts) != 7 or parts[:2] != ["v1", "projects"] or parts[3] != "locations" or parts[5] != "clusters":
            return 404, google_error(404, f"The requested URL {path} was not found on this server.")
        project, location, name = parts[2], parts[4], parts[6]
        resource = f"projects/{project}/locations/{location}/clusters/{name}"
        if account not in self.viewers:
            return 403, google_error(403, f'Required "container.clusters.get" permission(s) for "{resource}".')
        cluster = self.clusters.get((project, location, name))
        if cluster is None:
            return 404, google_error(404, f"Not found: {resource}.")
        return 200, cluster

    def close(self) -> None:
        """Stop serving and release the port."""
        stop(self.server, self.thread)
