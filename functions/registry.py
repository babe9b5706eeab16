"""The function registry: the one list of every Cloud Function the platform deploys.

`farm up` mounts these, `farm functions --deploy-commands` turns them into `gcloud` commands,
`--firebase-json` into Hosting rewrites, and later terraform and Cloud Build read them too.
A function owns ONE path (Hosting rewrites map a path, not a method, to a function), possibly
with several methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="farm-healthz",
        module="functions.healthz",
        entry_point="healthz",
        trigger=HttpTrigger("/healthz", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-agents",
        module="functions.agents",
        entry_point="agents_collection",
        trigger=HttpTrigger("/api/agents", ("GET", "POST")),
        # A 10 MB upload is held once and unpacked once while validating; a large source is
        # parsed in pieces on every vCPU (shared/validation/parallel.py), 2 here rather than the
        # third of one that 512Mi would come with.
        memory="1Gi",
        cpu="2",
        public=True,
    ),
    FunctionSpec(
        name="farm-agent-item",
        module="functions.agent_item",
        entry_point="agent_item",
        trigger=HttpTrigger("/api/agents/<agent_id>", ("GET", "DELETE")),
        public=True,
    ),
    FunctionSpec(
        name="farm-on-agent-created",
        module="functions.on_agent_created",
        entry_point="on_agent_created",
        trigger=DocumentTrigger("agents", "created"),
    ),
    FunctionSpec(
        name="farm-on-agent-deleted",
        module="functions.on_agent_deleted",
        entry_point="on_agent_deleted",
        trigger=DocumentTrigger("agents", "updated"),
        timeout_s=60,  # waits for the runtime's graceful exit (<= 20 s)
    ),
    FunctionSpec(
        name="farm-broker-accounts",
        module="functions.broker_accounts",
        entry_point="broker_accounts_collection",
        trigger=HttpTrigger("/api/broker/accounts", ("POST",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-broker-account-item",
        module="functions.broker_account_item",
        entry_point="broker_account_item",
        trigger=HttpTrigger("/api/broker/accounts/<account_id>", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-broker-funding",
        module="functions.broker_funding",
        entry_point="broker_funding",
        trigger=HttpTrigger("/api/broker/accounts/<account_id>/funding", ("POST",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-openapi",
        module="functions.openapi",
        entry_point="openapi",
        trigger=HttpTrigger("/api/openapi.json", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-backtests",
        module="functions.backtests",
        entry_point="agent_backtests",
        trigger=HttpTrigger("/api/agents/<agent_id>/backtests", ("GET", "POST")),
        public=True,
    ),
    FunctionSpec(
        name="farm-backtest-chart",
        module="functions.backtest_results",
        entry_point="backtest_chart_png",
        trigger=HttpTrigger("/api/backtests/<run_id>/chart", ("GET",)),
        memory="512Mi",  # matplotlib draws the first request's chart
        public=True,
    ),
    FunctionSpec(
        name="farm-backtest-curves",
        module="functions.backtest_results",
        entry_point="backtest_chart_curves",
        trigger=HttpTrigger("/api/backtests/<run_id>/curves", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-backtest-output",
        module="functions.backtest_results",
        entry_point="backtest_agent_output",
        trigger=HttpTrigger("/api/backtests/<run_id>/output", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-backtest-item",
        module="functions.backtest_item",
        entry_point="backtest_item",
        trigger=HttpTrigger("/api/backtests/<run_id>", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-on-backtest-request",
        module="functions.on_backtest_request",
        entry_point="on_backtest_request",
        trigger=TopicTrigger("backtest-requests"),
    ),
    FunctionSpec(
        name="farm-on-backtest-result",
        module="functions.on_backtest_result",
        entry_point="on_backtest_result",
        trigger=TopicTrigger("backtest-results"),
    ),
    FunctionSpec(
        name="farm-paper-trading",
        module="functions.paper_trading",
        entry_point="paper_trading_session",
        trigger=HttpTrigger("/api/agents/<agent_id>/paper-trading", ("GET", "POST", "DELETE")),
        timeout_s=60,  # a stop waits for the runtime's graceful exit (<= 20 s)
        public=True,
    ),
    FunctionSpec(
        name="farm-paper-trading-pause",
        module="functions.paper_trading_controls",
        entry_point="paper_trading_pause",
        trigger=HttpTrigger("/api/agents/<agent_id>/paper-trading/pause", ("POST",)),
        timeout_s=60,  # waits for the runtime's graceful exit (<= 20 s)
        public=True,
    ),
    FunctionSpec(
        name="farm-paper-trading-resume",
        module="functions.paper_trading_controls",
        entry_point="paper_trading_resume",
        trigger=HttpTrigger("/api/agents/<agent_id>/paper-trading/resume", ("POST",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-paper-trading-output",
        module="functions.paper_trading_controls",
        entry_point="paper_trading_output",
        trigger=HttpTrigger("/api/agents/<agent_id>/paper-trading/output", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-reconciliations",
        module="functions.reconciliations",
        entry_point="agent_reconciliations",
        trigger=HttpTrigger("/api/agents/<agent_id>/paper-trading/reconciliations", ("POST",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-reconciliation-item",
        module="functions.reconciliations",
        entry_point="agent_reconciliation_item",
        trigger=HttpTrigger("/api/agents/<agent_id>/paper-trading/reconciliations/<reconciliation_id>", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-reconciliation-chart",
        module="functions.reconciliations",
        entry_point="agent_reconciliation_chart",
        trigger=HttpTrigger("/api/agents/<agent_id>/paper-trading/reconciliations/<reconciliation_id>/chart",
                            ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-on-reconciliation-request",
        module="functions.on_reconciliation_request",
        entry_point="on_reconciliation_request",
        trigger=TopicTrigger("reconciliation-requests"),
    ),
    FunctionSpec(
        name="farm-leaderboard",
        module="functions.leaderboard",
        entry_point="leaderboard_page",
        trigger=HttpTrigger("/api/leaderboard", ("GET",)),
        min_instances=1,  # public and cached: a cold start would dwarf a 1 ms cache hit
        public=True,
    ),
    FunctionSpec(
        name="farm-leaderboard-agent",
        module="functions.leaderboard_agent",
        entry_point="leaderboard_agent",
        trigger=HttpTrigger("/api/leaderboard/agents/<agent_id>", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-fmel-decisions",
        module="functions.fmel_decisions",
        entry_point="fmel_decisions",
        trigger=HttpTrigger("/api/fmel/decisions", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-fmel-analytics",
        module="functions.fmel_analytics",
        entry_point="fmel_agent_analytics",
        trigger=HttpTrigger("/api/fmel/agents/<agent_id>/analytics", ("GET",)),
        public=True,
    ),
    FunctionSpec(
        name="farm-fmel-export",
        module="functions.fmel_export",
        entry_point="fmel_export",
        trigger=HttpTrigger("/api/fmel/agents/<agent_id>/export", ("GET",)),
        memory="512Mi",
        timeout_s=540,  # a long agent history streams for a while
        public=True,
    ),
    FunctionSpec(
        name="farm-on-runtime-watch",
        module="functions.on_runtime_watch",
        entry_point="on_runtime_watch",
        trigger=TopicTrigger("runtime-watch"),
        timeout_s=120,
        max_instances=1,  # one tick at a time: two would only repeat each other's (idempotent) steps
    ),
    FunctionSpec(
        name="farm-on-backtest-result-leaderboard",
        module="functions.on_leaderboard_refresh",
        entry_point="on_backtest_result_leaderboard",
        trigger=TopicTrigger("backtest-results"),
    ),
    FunctionSpec(
        name="farm-on-performance-update",
        module="functions.on_leaderboard_refresh",
        entry_point="on_performance_update",
        trigger=TopicTrigger("performance-updates"),
    ),
)


# The earlier platform's routes, served as deprecated aliases of today's (functions/legacy_routes.py).
FUNCTIONS += tuple(
    FunctionSpec(name=f"farm-legacy-{name}", module="functions.legacy_routes", entry_point=f"legacy_{name.replace('-', '_')}",
                 trigger=HttpTrigger(path, methods), public=True, timeout_s=60)
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
