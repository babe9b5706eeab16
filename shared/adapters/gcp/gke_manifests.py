"""The Kubernetes objects of one paper-trading session on GKE, rendered from runtime/k8s/.

A session is two pods that share nothing but a TCP channel (docs/trust-boundary.md):
    statefulset.yaml          the trusted runtime host: Workload Identity, the Alpaca Secret,
                              listens on CHANNEL_PORT for its agent
    sandbox-statefulset.yaml  the untrusted agent: gVisor, no identity, no token, no credential,
                              connects to the host's Service IP with the session's token
    channel.yaml              the token Secret, the host's Service and the two NetworkPolicies
The templates use `string.Template` placeholders; rendering here is exactly what is applied.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from string import Template
from typing import Any

import yaml

from shared.ports.orchestrator import RuntimeSpec
from shared.settings import Settings

K8S_DIR = Path(__file__).resolve().parents[3] / "runtime" / "k8s"
NAMESPACE = "farm-agents"
ALPACA_SECRET = "farm-alpaca"
SERVICE_ACCOUNT = "farm-runtime"  # runtime/k8s/serviceaccount.yaml (Workload Identity): hosts only
AGENT_SERVICE_ACCOUNT = "farm-agent"  # same file: no Workload Identity, no token, no RBAC
CHANNEL_PORT = 7000  # the host's --agent-port, the Service's port, the NetworkPolicies' port
TOKEN_ENV = "FARM_CHANNEL_TOKEN"  # the Secret's key; the agent's env (shared.harness.agent_main)
TOKEN_FILE = "/var/run/farm/channel/token"  # the host's --agent-token-file


def workload_name(agent_id: str) -> str:
    """A DNS-1123 name for the agent's host StatefulSet (short enough for pod names)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", agent_id.lower()).strip("-")[:40].strip("-")
    if not slug:
        raise ValueError(f"agent id {agent_id!r} gives no usable Kubernetes name")
    return f"agent-{slug}"


def sandbox_name(agent_id: str) -> str:
    """The agent's own StatefulSet: another prefix, so no agent id can make it another's host."""
    return "sandbox-" + workload_name(agent_id).removeprefix("agent-")


def token_secret_name(agent_id: str, session_id: str) -> str:
    """One Secret per session: a restart of the session keeps its token, a new session gets another."""
    return f"{workload_name(agent_id)}-token-{hashlib.sha256(session_id.encode()).hexdigest()[:10]}"


def default_image(settings: Settings) -> str:
    """The runtime image Cloud Build pushes (Artifact Registry in the project's region)."""
    return f"{settings.gcp_region}-docker.pkg.dev/{settings.gcp_project}/farm/runtime:latest"


def render_statefulset(agent_id: str, session_id: str, spec: RuntimeSpec, *, settings: Settings,
                       image: str | None = None, namespace: str = NAMESPACE) -> dict[str, Any]:
    """The host StatefulSet of one agent's session, as a dict ready for the API."""
    [host] = _render("statefulset.yaml", agent_id, session_id, spec, settings=settings, image=image,
                     namespace=namespace, project=settings.gcp_project or "", region=settings.gcp_region,
                     secret=ALPACA_SECRET, service_account=SERVICE_ACCOUNT)
    return host


def render_sandbox(agent_id: str, session_id: str, spec: RuntimeSpec, *, channel_ip: str, settings: Settings,
                   image: str | None = None, namespace: str = NAMESPACE) -> dict[str, Any]:
    """The agent's StatefulSet: it connects to `channel_ip` (the host Service's cluster IP)."""
    if not re.fullmatch(r"[0-9a-fA-F.:]+", channel_ip):
        raise ValueError(f"the channel address must be an IP (the agent has no DNS): {channel_ip!r}")
    [agent] = _render("sandbox-statefulset.yaml", agent_id, session_id, spec, settings=settings, image=image,
                      namespace=namespace, channel_ip=channel_ip, agent_service_account=AGENT_SERVICE_ACCOUNT,
                      sandbox_name=sandbox_name(agent_id))
    return agent


def render_channel(agent_id: str, session_id: str, *, token: str,
                   namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """The session's token Secret, the host's Service and the two NetworkPolicies, in that order."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{32,}", token):
        raise ValueError("the channel token must be a long URL-safe random string")
    return _render("channel.yaml", agent_id, session_id, None, namespace=namespace, token=token)


def _render(template: str, agent_id: str, session_id: str, spec: RuntimeSpec | None, *,
            settings: Settings | None = None, image: str | None = None, **values: str) -> list[dict[str, Any]]:
    if spec is not None and spec.env:
        raise ValueError("GKE runtimes take no extra env: settings come from the template")
    if spec is not None:
        values |= {"cpu": f"{int(spec.cpu * 1000)}m", "cpu_request": f"{int(spec.cpu * 500)}m",
                   "memory": f"{spec.memory_mb}Mi", "memory_request": f"{spec.memory_mb // 2}Mi"}
    if settings is not None:
        values["image"] = image or default_image(settings)
    text = Template((K8S_DIR / template).read_text()).substitute(
        name=workload_name(agent_id), agent_id=agent_id, session_id=session_id,
        token_secret=token_secret_name(agent_id, session_id), **values)
    return [document for document in yaml.safe_load_all(text) if document]
