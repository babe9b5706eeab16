"""The function registry: the one list of every Cloud Function the platform deploys.

`farm up` mounts these, `farm functions --deploy-commands` turns them into `gcloud` commands,
`--firebase-json` into Hosting rewrites, and later terraform and Cloud Build read them too.
A function owns ONE path (Hosting rewrites map a path, not a method, to a function), possibly
with several methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

DocumentEvent = Literal["created", "updated", "deleted", "written"]
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class HttpTrigger:
    """Invoked over HTTP at `path` (Flask syntax, e.g. "/api/agents/<agent_id>")."""

    path: str
    methods: tuple[str, ...] = ("GET",)

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"HTTP path must start with '/', got {self.path!r}")
        unknown = set(self.methods) - HTTP_METHODS
        if not self.methods or unknown:
            raise ValueError(f"HTTP methods must be a non-empty subset of {sorted(HTTP_METHODS)}")


@dataclass(frozen=True)
class TopicTrigger:
    """Invoked with a Pub/Sub `messagePublished` CloudEvent for every message on `topic`."""

    topic: str


@dataclass(frozen=True)
class DocumentTrigger:
    """Invoked with a Firestore document CloudEvent for changes in `collection`."""

    collection: str
    event: DocumentEvent = "written"

    def __post_init__(self) -> None:
        if self.event not in ("created", "updated", "deleted", "written"):
            raise ValueError(f"unknown Firestore event {self.event!r}")


Trigger = HttpTrigger | TopicTrigger | DocumentTrigger


@dataclass(frozen=True)
class FunctionSpec:
    """One deployable function: where its code is and what invokes it."""

    name: str  # deployed name, e.g. "farm-healthz"
    module: str  # e.g. "functions.healthz"
    entry_point: str  # python function name, unique across all functions (main.py exports it)
    trigger: Trigger
    memory: str = "256Mi"
    cpu: str | None = None  # vCPUs; None keeps the memory tier's default (0.167 at 256Mi)
    timeout_s: int = 60
    min_instances: int = 0
    max_instances: int = 20
    public: bool = False  # allow unauthenticated invokers (the app still checks tokens)

    @property
    def is_http(self) -> bool:
        """Whether the function is invoked over HTTP."""
        return isinstance(self.trigger, HttpTrigger)

    def describe_trigger(self) -> tuple[str, str]:
        """A short (kind, target) pair for listings, e.g. ("http", "GET /healthz")."""
        t = self.trigger
        if isinstance(t, HttpTrigger):
            return "http", f"{','.join(t.methods)} {t.path}"
        if isinstance(t, TopicTrigger):
            return "pubsub", t.topic
        return "firestore", f"{t.collection} {t.event}"


def _api(name: str, module: str, entry_point: str, path: str, methods: tuple[str, ...] = ("GET",),
         **options: Any) -> FunctionSpec:
    # Every HTTP function is public at the network level: the edge verifies ID tokens itself
    # (functions.edge.http), and Hosting rewrites cannot carry an IAM identity.
    return FunctionSpec(name, f"functions.{module}", entry_point, HttpTrigger(path, methods), public=True, **options)


def _on(name: str, module: str, entry_point: str, trigger: TopicTrigger | DocumentTrigger,
        **options: Any) -> FunctionSpec:
    # Event functions are invoked by Eventarc only, never by a caller.
    return FunctionSpec(name, f"functions.{module}", entry_point, trigger, **options)


AGENT = "/api/agents/<agent_id>"
RECONCILIATION = AGENT + "/paper-trading/reconciliations/<reconciliation_id>"
WAITS_FOR_RUNTIME_EXIT = 60  # a stop or pause waits for the runtime's graceful exit (<= 20 s)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    _api("farm-healthz", "healthz", "healthz", "/healthz"),
    # A 10 MB upload is held once and unpacked once while validating; a large source is parsed in
    # pieces on every vCPU (shared/validation/parallel.py), 2 here rather than the third of one
    # that 512Mi would come with.
    _api("farm-agents", "agents", "agents_collection", "/api/agents", ("GET", "POST"), memory="1Gi", cpu="2"),
    _api("farm-agent-item", "agent_item", "agent_item", AGENT, ("GET", "DELETE")),
    _on("farm-on-agent-created", "on_agent_created", "on_agent_created", DocumentTrigger("agents", "created")),
    _on("farm-on-agent-deleted", "on_agent_deleted", "on_agent_deleted", DocumentTrigger("agents", "updated"),
        timeout_s=WAITS_FOR_RUNTIME_EXIT),
    _api("farm-broker-accounts", "broker_accounts", "broker_accounts_collection", "/api/broker/accounts", ("POST",)),
    _api("farm-broker-account-item", "broker_account_item", "broker_account_item",
         "/api/broker/accounts/<account_id>"),
    _api("farm-broker-funding", "broker_funding", "broker_funding", "/api/broker/accounts/<account_id>/funding",
         ("POST",)),
    _api("farm-openapi", "openapi", "openapi", "/api/openapi.json"),
    _api("farm-backtests", "backtests", "agent_backtests", AGENT + "/backtests", ("GET", "POST")),
    _api("farm-backtest-chart", "backtest_results", "backtest_chart_png", "/api/backtests/<run_id>/chart",
         memory="512Mi"),  # matplotlib draws the first request's chart
    _api("farm-backtest-curves", "backtest_results", "backtest_chart_curves", "/api/backtests/<run_id>/curves"),
    _api("farm-backtest-output", "backtest_results", "backtest_agent_output", "/api/backtests/<run_id>/output"),
    _api("farm-backtest-item", "backtest_item", "backtest_item", "/api/backtests/<run_id>"),
    _on("farm-on-backtest-request", "on_backtest_request", "on_backtest_request", TopicTrigger("backtest-requests")),
    _on("farm-on-backtest-result", "on_backtest_result", "on_backtest_result", TopicTrigger("backtest-results")),
    _api("farm-paper-trading", "paper_trading", "paper_trading_session", AGENT + "/paper-trading",
         ("GET", "POST", "DELETE"), timeout_s=WAITS_FOR_RUNTIME_EXIT),
    _api("farm-paper-trading-pause", "paper_trading_controls", "paper_trading_pause", AGENT + "/paper-trading/pause",
         ("POST",), timeout_s=WAITS_FOR_RUNTIME_EXIT),
    _api("farm-paper-trading-resume", "paper_trading_controls", "paper_trading_resume",
         AGENT + "/paper-trading/resume", ("POST",)),
    _api("farm-paper-trading-output", "paper_trading_controls", "paper_trading_output",
         AGENT + "/paper-trading/output"),
    _api("farm-reconciliations", "reconciliations", "agent_reconciliations", AGENT + "/paper-trading/reconciliations",
         ("POST",)),
    _api("farm-reconciliation-item", "reconciliations", "agent_reconciliation_item", RECONCILIATION),
    _api("farm-reconciliation-chart", "reconciliations", "agent_reconciliation_chart", RECONCILIATION + "/chart"),
    _on("farm-on-reconciliation-request", "on_reconciliation_request", "on_reconciliation_request",
        TopicTrigger("reconciliation-requests")),
    # Public and cached: a cold start would dwarf a 1 ms cache hit.
    _api("farm-leaderboard", "leaderboard", "leaderboard_page", "/api/leaderboard", min_instances=1),
    _api("farm-leaderboard-agent", "leaderboard_agent", "leaderboard_agent", "/api/leaderboard/agents/<agent_id>"),
    _api("farm-fmel-decisions", "fmel_decisions", "fmel_decisions", "/api/fmel/decisions"),
    _api("farm-fmel-analytics", "fmel_analytics", "fmel_agent_analytics", "/api/fmel/agents/<agent_id>/analytics"),
    _api("farm-fmel-export", "fmel_export", "fmel_export", "/api/fmel/agents/<agent_id>/export",
         memory="512Mi", timeout_s=540),  # a long agent history streams for a while
    # One tick at a time: two would only repeat each other's (idempotent) steps.
    _on("farm-on-runtime-watch", "on_runtime_watch", "on_runtime_watch", TopicTrigger("runtime-watch"),
        timeout_s=120, max_instances=1),
    _on("farm-on-backtest-result-leaderboard", "on_leaderboard_refresh", "on_backtest_result_leaderboard",
        TopicTrigger("backtest-results")),
    _on("farm-on-performance-update", "on_leaderboard_refresh", "on_performance_update",
        TopicTrigger("performance-updates")),
)


# The earlier platform's routes, served as deprecated aliases of today's (functions/legacy_routes.py).
FUNCTIONS += tuple(
    _api(f"farm-legacy-{name}", "legacy_routes", f"legacy_{name.replace('-', '_')}", path, methods, timeout_s=60)
    for name, path, methods in (
        ("agents-submit", "/api/agents/submit", ("POST",)),
        ("agents-list", "/api/agents/list", ("GET",)),
        ("agent-status", "/api/agents/<agent_id>/status", ("GET",)),
        ("broker-create", "/api/broker/create", ("POST",)),
        ("broker-fund", "/api/broker/fund", ("POST",)),
        ("broker-balance", "/api/broker/balance", ("GET",)),
        ("broker-positions", "/api/broker/positions", ("GET",)),
        ("paper-start", "/api/paper-trading/start", ("POST",)),
        ("paper-stop", "/api/paper-trading/stop", ("POST",)),
        ("paper-status", "/api/paper-trading/status", ("GET",)),
        ("leaderboard-user", "/api/leaderboard/user/<agent_id>", ("GET",)),
        ("leaderboard-top", "/api/leaderboard/top/<int:n>", ("GET",)),
        ("fmel-analytics", "/api/fmel/analytics", ("GET",)),
        ("fmel-agent", "/api/fmel/agent/<agent_id>", ("GET",)),
    )
)


def by_name(name: str, specs: tuple[FunctionSpec, ...] = FUNCTIONS) -> FunctionSpec:
    """The spec deployed as `name`; KeyError naming the known ones otherwise."""
    for spec in specs:
        if spec.name == name:
            return spec
    raise KeyError(f"no function named {name!r}; known: {[s.name for s in specs]}")


def check_unique(specs: tuple[FunctionSpec, ...]) -> None:
    """Raise ValueError when names, entry points or HTTP paths collide."""
    for label, values in (
        ("name", [s.name for s in specs]),
        ("entry point", [s.entry_point for s in specs]),
        ("HTTP path", [s.trigger.path for s in specs if isinstance(s.trigger, HttpTrigger)]),
    ):
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ValueError(f"duplicate function {label}(s): {dupes}")


check_unique(FUNCTIONS)
