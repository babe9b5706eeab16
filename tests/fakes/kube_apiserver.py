"""A local fake Kubernetes API server over HTTPS: what GkeOrchestrator applies, with RBAC.

Real TLS with a certificate from a test CA (tests/fakes/certificates.py), real Kubernetes JSON:
create, read, list (labelSelector), strategic-merge patch and delete of namespaced StatefulSets
(`/apis/apps/v1/namespaces/NS/statefulsets[/NAME]`), Secrets, Services and Pods (`/api/v1/...`) and
NetworkPolicies (`/apis/networking.k8s.io/v1/...`), `Status` objects for errors (401
Unauthorized, 403 Forbidden naming user, verb and resource, 404 NotFound, 409 AlreadyExists).
As the real server does, a Service gets a cluster IP, a Secret's `stringData` is stored as
`data`, and deleting an object deletes what names it in `ownerReferences` (the garbage collector).

Authentication: a bearer token is a Google token (looked up in a `TokenIssuer`, as GKE asks
Google, and the user is the account's email) or one of `static_tokens`. Authorization is RBAC
evaluated from the given Role / RoleBinding documents (the repo's runtime/k8s/rbac.yaml), so a
test proves what the manifests grant. `requests` records (verb, path, user). It plays the
StatefulSet controller (each StatefulSet's pods, tests/fakes/kube_pods.py) and, when a test asks,
the kubelet: `set_ready` (the readiness probe passes), `crash` (a container exits and restarts).
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.fakes import kube_pods
from tests.fakes.certificates import ServerCertificate
from tests.fakes.google_tokens import TokenIssuer

PREFIX = "/apis/apps/v1/namespaces/"
# API path prefix -> resource -> (group, apiVersion, kind)
RESOURCES: dict[str, dict[str, tuple[str, str, str]]] = {
    PREFIX: {"statefulsets": ("apps", "apps/v1", "StatefulSet")},
    "/api/v1/namespaces/": {"secrets": ("", "v1", "Secret"), "services": ("", "v1", "Service"),
                            "pods": ("", "v1", "Pod")},
    "/apis/networking.k8s.io/v1/namespaces/": {
        "networkpolicies": ("networking.k8s.io", "networking.k8s.io/v1", "NetworkPolicy")},
}
VERB_OF = {"POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}
MERGE_TYPES = ("application/strategic-merge-patch+json", "application/merge-patch+json")


class Rbac:
    """Namespaced RBAC from Role and RoleBinding documents: may `user` do `verb` on `resource`?"""

    def __init__(self, documents: list[dict[str, Any]]) -> None:
        self.roles = {(d["metadata"]["namespace"], d["metadata"]["name"]): d for d in documents if d["kind"] == "Role"}
        self.bindings = [d for d in documents if d["kind"] == "RoleBinding"]

    def allows(self, user: str, verb: str, group: str, resource: str, namespace: str) -> bool:
        for binding in self.bindings:
            if binding["metadata"]["namespace"] != namespace or not any(
                    _subject_is(s, user, namespace) for s in binding["subjects"]):
                continue
            role = self.roles.get((namespace, binding["roleRef"]["name"]))
            if role and binding["roleRef"]["kind"] == "Role" and any(
                    group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"]
                    for r in role["rules"]):
                return True
        return False


def _subject_is(subject: dict[str, Any], user: str, namespace: str) -> bool:
    if subject["kind"] == "User":
        return subject["name"] == user
    if subject["kind"] == "ServiceAccount":
        return user == f"system:serviceaccount:{subject.get('namespace', namespace)}:{subject['name']}"
    return False


class FakeKubeApiServer:
    """Serve StatefulSets over HTTPS on 127.0.0.1 until `close()`."""

    def __init__(self, certificate: ServerCertificate, workdir: Path, *, issuer: TokenIssuer, rbac: Rbac,
                 static_tokens: dict[str, str] | None = None, namespaces: tuple[str, ...] = ("farm-agents",)) -> None:
        self.issuer, self.rbac, self.static_tokens = issuer, rbac, dict(static_tokens or {})
        self.namespaces = set(namespaces)
        # resource -> (namespace, name) -> object; `objects` are the StatefulSets
        self.stores: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
            resource: {} for kinds in RESOURCES.values() for resource in kinds}
        self.objects = self.stores["statefulsets"]
        self._cluster_ips = itertools.count(10)
        self.requests: list[tuple[str, str, str | None]] = []
        self.delete_options: list[dict[str, Any]] = []
        self._versions = itertools.count(1000)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real API server

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = fake.handle(self.command, self.path, self.headers.get("Authorization", ""),
                                             self.headers.get("Content-Type", ""), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        cert_file, key_file = certificate.write(workdir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        """host:port, as the GKE API's `endpoint` field (GKE's has no port: 443)."""
        return f"127.0.0.1:{self.server.server_port}"

    def set_ready(self, namespace: str, name: str, ready: int = 1) -> None:
        """What the StatefulSet controller reports once the pod passes its readiness probe."""
        with self._lock:
            obj = self.objects[(namespace, name)]
            revision = kube_pods.revision_of(obj)
            obj["status"] = {"observedGeneration": obj["metadata"]["generation"], "replicas": ready,
                             "readyReplicas": ready, "currentReplicas": ready, "updatedReplicas": ready,
                             "availableReplicas": ready, "currentRevision": revision, "updateRevision": revision}
            for pod_name in kube_pods.wanted_pods(obj)[:ready]:
                kube_pods.make_ready(self.stores["pods"][(namespace, pod_name)])

    def crash(self, namespace: str, pod: str, *, exit_code: int = 1, reason: str = "Error", container: str = "runtime",
              restart: bool = True, message: str = "") -> None:
        """The pod's container exits with `exit_code` (`reason`: Error, OOMKilled, ...), as the kubelet
        reports it; `restart` False leaves it waiting in CrashLoopBackOff. The pod is not ready."""
        with self._lock:
            found = self.stores["pods"][(namespace, pod)]
            kube_pods.exit_container(found, container, exit_code=exit_code, reason=reason, restart=restart,
                                     message=message)
            found["metadata"]["resourceVersion"] = str(next(self._versions))
            owner = found["metadata"]["ownerReferences"][0]["name"]
            status = self.objects[(namespace, owner)]["status"]
            status |= {"readyReplicas": 0, "availableReplicas": 0}

    def pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The pod as stored (None when there is none)."""
        return self.stores["pods"].get((namespace, name))

    def handle(self, method: str, raw_path: str, auth: str, content_type: str,
               body: bytes) -> tuple[int, dict[str, Any]]:
        """The status and JSON the API server sends for one request."""
        url = urlparse(raw_path)
        query = parse_qs(url.query)
        user = self._user(auth)
        prefix = next((p for p in RESOURCES if url.path.startswith(p)), "")
        rest = url.path.removeprefix(prefix).split("/") if prefix else []
        if len(rest) not in (2, 3) or rest[1] not in RESOURCES[prefix]:
            self.requests.append((method, url.path, user))
            return 404, _status(404, "NotFound", "the server could not find the requested resource")
        namespace, resource, name = rest[0], rest[1], (rest[2] if len(rest) == 3 else None)
        group = RESOURCES[prefix][resource][0]
        verb = VERB_OF.get(method) or ("get" if name else ("watch" if query.get("watch") else "list"))
        self.requests.append((verb, url.path, user))
        if user is None:
            return 401, _status(401, "Unauthorized", "Unauthorized")
        if not self.rbac.allows(user, verb, group, resource, namespace):
            qualified = f"{resource}.{group}" if group else resource
            target = f'{qualified} "{name}"' if name else qualified
            return 403, _status(403, "Forbidden", f'{target} is forbidden: User "{user}" cannot {verb} resource '
                                                  f'"{resource}" in API group "{group}" in the namespace "{namespace}"',
                                name=name, kind=resource, group=group)
        with self._lock:
            return self._apply(RESOURCES[prefix][resource], resource, verb, namespace, name, query, content_type,
                               body)

    def _user(self, auth: str) -> str | None:
        if not auth.startswith("Bearer "):
            return None
        token = auth.removeprefix("Bearer ")
        return self.static_tokens.get(token) or self.issuer.account_of(token)

    def _apply(self, kind_of: tuple[str, str, str], resource: str, verb: str, namespace: str, name: str | None,
               query: dict[str, list[str]], content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        group, api_version, kind = kind_of
        store = self.stores[resource]
        qualified = f"{resource}.{group}" if group else resource

        def status(code: int, reason: str, message: str, **details: Any) -> tuple[int, dict[str, Any]]:
            return code, _status(code, reason, message, kind=resource, group=group, **details)

        if namespace not in self.namespaces:
            return 404, _status(404, "NotFound", f'namespaces "{namespace}" not found', name=namespace,
                                kind="namespaces", group="")
        if verb == "list":
            wanted = dict(p.split("=", 1) for p in ",".join(query.get("labelSelector", [])).split(",") if "=" in p)
            items = [o for (ns, _), o in sorted(store.items()) if ns == namespace
                     and wanted.items() <= (o["metadata"].get("labels") or {}).items()]
            return 200, {"apiVersion": api_version, "kind": f"{kind}List",
                         "metadata": {"resourceVersion": str(next(self._versions))}, "items": items}
        if verb == "create":
            obj = json.loads(body)
            name = obj["metadata"]["name"]
            if obj.get("kind") != kind or obj.get("apiVersion") != api_version:
                return status(400, "BadRequest", f"the body is not a {api_version} {kind}")
            if obj["metadata"].get("namespace", namespace) != namespace:
                return status(400, "BadRequest", "the namespace of the provided object does not match "
                                                 "the namespace sent on the request")
            if (namespace, name) in store:
                return status(409, "AlreadyExists", f'{qualified} "{name}" already exists', name=name)
            obj["metadata"] |= {"namespace": namespace, "uid": str(uuid.uuid4()), "generation": 1,
                                "resourceVersion": str(next(self._versions)), "creationTimestamp": kube_pods.now()}
            _as_stored(resource, obj, next(self._cluster_ips))
            store[(namespace, name)] = obj
            self._run_controller(resource, namespace, name)
            return 201, obj
        assert name is not None
        found = store.get((namespace, name))
        if found is None:
            return status(404, "NotFound", f'{qualified} "{name}" not found', name=name)
        if verb == "get":
            return 200, found
        if verb == "patch":
            patch = json.loads(body)
            if content_type.split(";")[0] not in MERGE_TYPES or not isinstance(patch, dict):
                return status(400, "BadRequest", f"unsupported patch {content_type} with this body")
            merged = _merge(copy.deepcopy(found), patch)
            merged["metadata"] |= {"generation": found["metadata"]["generation"] + 1,
                                   "resourceVersion": str(next(self._versions))}
            store[(namespace, name)] = merged
            self._run_controller(resource, namespace, name)
            return 200, merged
        if verb == "delete":
            options = json.loads(body) if body else {}
            self.delete_options.append(options)
            wanted = (options.get("preconditions") or {}).get("resourceVersion")
            if wanted and wanted != found["metadata"]["resourceVersion"]:
                return status(409, "Conflict", f'Operation cannot be fulfilled on {qualified} "{name}": the object '
                              f'has been modified; ResourceVersion in precondition: {wanted}, ResourceVersion in '
                              f'object meta: {found["metadata"]["resourceVersion"]}', name=name)
            gone = store.pop((namespace, name))
            self._collect_garbage(gone["metadata"]["uid"])
            if resource != "statefulsets":  # as the real server: a Status, not the object (a Secret's data)
                return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                             "details": {"name": name, "group": group, "kind": resource}}
            if options.get("propagationPolicy") == "Foreground":
                gone["metadata"] |= {"deletionTimestamp": kube_pods.now(), "finalizers": ["foregroundDeletion"]}
            return 200, gone
        return status(405, "MethodNotAllowed", f"{verb} is not supported here")

    def _run_controller(self, resource: str, namespace: str, name: str) -> None:
        """The StatefulSet controller: one pod per replica; a changed template rolls the pod."""
        if resource != "statefulsets":
            return
        workload, pods = self.objects[(namespace, name)], self.stores["pods"]
        wanted, revision = kube_pods.wanted_pods(workload), kube_pods.revision_of(workload)
        for key, pod in list(pods.items()):
            owners = {ref["uid"] for ref in pod["metadata"]["ownerReferences"]}
            if workload["metadata"]["uid"] in owners and key[1] not in wanted:
                del pods[key]  # scaled down
        for index, pod_name in enumerate(wanted):
            current = pods.get((namespace, pod_name))
            if current is None or current["metadata"]["labels"]["controller-revision-hash"] != revision:
                pods[(namespace, pod_name)] = kube_pods.new_pod(workload, index, str(next(self._versions)))
                workload["status"] |= {"readyReplicas": 0, "availableReplicas": 0}
        workload["status"] |= {"replicas": len(wanted), "currentRevision": revision, "updateRevision": revision}

    def _collect_garbage(self, owner_uid: str) -> None:
        """Delete every object owned by `owner_uid`, and what those own (the garbage collector)."""
        for store in self.stores.values():
            for key, obj in list(store.items()):
                if any(ref.get("uid") == owner_uid for ref in obj["metadata"].get("ownerReferences", [])):
                    del store[key]
                    self._collect_garbage(obj["metadata"]["uid"])

    def close(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _as_stored(resource: str, obj: dict[str, Any], serial: int) -> None:
    """What the API server adds or converts on create."""
    if resource == "statefulsets":
        obj["status"] = {"replicas": 0, "availableReplicas": 0}
    elif resource == "services":
        ip = f"10.96.{serial // 250}.{serial % 250 + 1}"
        obj["spec"] |= {"clusterIP": ip, "clusterIPs": [ip]}
    elif resource == "secrets":
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in obj.pop("stringData", {}).items()}
        obj["data"] = obj.get("data", {}) | encoded


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge `patch` into `target` (maps merged, lists and scalars replaced, null deletes)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
    return target


def _status(code: int, reason: str, message: str, *, name: str | None = None, kind: str = "statefulsets",
            group: str = "apps") -> dict[str, Any]:
    details: dict[str, Any] = {"group": group, "kind": kind} | ({"name": name} if name else {})
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "details": details if code != 401 else {}, "code": code}
