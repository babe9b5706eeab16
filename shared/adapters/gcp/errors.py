"""Google API errors -> the platform's errors (shared.errors): one table, and each service's
differences from it said here, with the reason.

Every Google Cloud adapter runs its client calls inside `SERVICE.translated(what)`, so a missing
object is a NotFoundError, a refused identity a BackendAccessError, a briefly unavailable service
a TransientError (the edges answer 503 or let the event come back), whichever client raised it.

    with FIRESTORE.translated(f"get {ref.path}"):
        snapshot = ref.get()

The table reads google-api-core's classes, which both transports share: a gRPC status
(PermissionDenied, ...) is a subclass of its HTTP status (Forbidden, ...), so one row covers a
gRPC client (Firestore, Pub/Sub, Cloud Build) and a REST one (Cloud Storage, BigQuery, Cloud Run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc
from requests import exceptions as http_exc

from shared.errors import (
    BackendAccessError,
    ConflictError,
    FarmError,
    InvalidInputError,
    NotFoundError,
    TransientError,
)


@dataclass(frozen=True)
class Rule:
    """Exceptions of the `raised` types (when `applies`, if given) become `becomes`, saying `phrase`."""

    raised: tuple[type[BaseException], ...]
    becomes: type[FarmError]
    phrase: str
    applies: Callable[[BaseException], bool] | None = None

    def matches(self, exc: BaseException) -> bool:
        """Whether this rule translates `exc`."""
        return isinstance(exc, self.raised) and (self.applies is None or self.applies(exc))


# First match wins, so a subclass's row comes before its base class's.
TABLE: tuple[Rule, ...] = (
    # Before any answer: the process has no credentials, or they no longer refresh.
    Rule((auth_exc.DefaultCredentialsError,), BackendAccessError,
         "no Google credentials (locally: `gcloud auth application-default login`)"),
    Rule((auth_exc.RefreshError,), BackendAccessError, "the credentials no longer refresh"),
    # The connection broke or timed out before an answer: worth another try.
    Rule((auth_exc.TransportError, http_exc.ConnectionError, http_exc.Timeout, ConnectionError, TimeoutError),
         TransientError, "cannot reach the service"),
    Rule((gexc.NotFound,), NotFoundError, "not found"),
    Rule((gexc.AlreadyExists,), ConflictError, "already exists"),
    # gRPC ABORTED means a concurrency conflict (a transaction aborted by a concurrent write).
    Rule((gexc.Aborted,), ConflictError, "aborted by a concurrent write"),
    Rule((gexc.Conflict,), ConflictError, "conflicts with the current state"),
    # HTTP 412: a condition on the object's current state (a generation, an etag) failed:
    # someone wrote first, as with Cloud Storage's "create only if absent".
    Rule((gexc.PreconditionFailed,), ConflictError, "changed or created meanwhile"),
    # 400 and its gRPC forms (InvalidArgument, FailedPrecondition such as a missing index, OutOfRange).
    Rule((gexc.BadRequest,), InvalidInputError, "rejected the request"),
    # 401/403: the service refused the platform's own identity (a role or binding is missing).
    Rule((gexc.Unauthorized, gexc.Forbidden), BackendAccessError, "refused the platform's credentials"),
    Rule((gexc.TooManyRequests,), TransientError, "rate-limited"),  # ResourceExhausted (quota) too
    Rule((gexc.InternalServerError, gexc.Unknown, gexc.BadGateway, gexc.ServiceUnavailable, gexc.GatewayTimeout),
         TransientError, "unavailable"),  # GatewayTimeout covers DeadlineExceeded
    # The client's own retries on a retryable status ran out.
    Rule((gexc.RetryError,), TransientError, "still failing after retries"),
    # Anything else Google answered (405, 411, 416, Cancelled, 501, DataLoss) is neither the
    # caller's fault nor worth a retry: an internal error, logged with its cause.
    Rule((gexc.GoogleAPICallError,), FarmError, "failed"),
)

# NotFound and Conflict messages reach callers (404/409): they name the object, not Google's
# text, which names projects and buckets. Other messages keep it: they are logged (500s), or
# they are the reason itself (a 400 naming the bad column or filter).
_WITHOUT_DETAIL = (NotFoundError, ConflictError)


@dataclass(frozen=True)
class GoogleService:
    """A Google Cloud API as the platform calls it: its name in messages, and where it differs
    from TABLE (its `overrides`, tried first)."""

    name: str
    overrides: tuple[Rule, ...] = ()

    def error_for(self, exc: BaseException, what: str) -> FarmError | None:
        """The platform error `exc` becomes while doing `what`; None when it is no Google error."""
        if isinstance(exc, FarmError):
            return None
        for rule in (*self.overrides, *TABLE):
            if rule.matches(exc):
                message = f"{self.name} {what}: {rule.phrase}"
                if not issubclass(rule.becomes, _WITHOUT_DETAIL):
                    message += f" ({_detail(exc)})"
                return rule.becomes(message)
        return None

    @contextmanager
    def translated(self, what: str) -> Iterator[None]:
        """Re-raise client errors from the block as platform errors, the cause chained.

        Platform errors and exceptions no client raises for a failed call (a KeyError, ...)
        pass unchanged.
        """
        try:
            yield
        except Exception as exc:
            error = self.error_for(exc, what)
            if error is None:
                raise
            raise error from exc


def _detail(exc: BaseException) -> str:
    text = getattr(exc, "message", None) if isinstance(exc, gexc.GoogleAPICallError) else None
    return str(text or exc or type(exc).__name__)


def _quota_exceeded(exc: BaseException) -> bool:
    # BigQuery's reasons are rateLimitExceeded, quotaExceeded, ...; the emulator gives the text only.
    reasons = {str(e.get("reason", "")) for e in getattr(exc, "errors", None) or () if isinstance(e, dict)}
    return any(r.endswith("Exceeded") for r in reasons) or "exceeded" in str(exc).lower()


# Firestore, Cloud Storage, Cloud Build and Cloud Run mean by each status what TABLE says: no override.
FIRESTORE = GoogleService("Firestore")
CLOUD_STORAGE = GoogleService("Cloud Storage")
CLOUD_BUILD = GoogleService("Cloud Build")
CLOUD_RUN = GoogleService("Cloud Run")
PUBSUB = GoogleService("Pub/Sub", overrides=(
    # Pub/Sub answers ABORTED for a request the server dropped and its own client retries
    # (publish, acknowledge, modifyAckDeadline): nothing concurrent wrote, so not a conflict.
    Rule((gexc.Aborted,), TransientError, "aborted, retry"),
))
BIGQUERY = GoogleService("BigQuery", overrides=(
    # BigQuery answers rate and quota limits with 403 (rateLimitExceeded, quotaExceeded), not
    # 429: they pass, so they are worth a retry, unlike a missing role.
    Rule((gexc.Forbidden,), TransientError, "over a rate or quota limit", applies=_quota_exceeded),
))
SERVICES = (FIRESTORE, PUBSUB, BIGQUERY, CLOUD_STORAGE, CLOUD_BUILD, CLOUD_RUN)
