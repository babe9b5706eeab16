"""One translation of Google API errors into shared.errors (shared.adapters.gcp.errors): the table
every service shares, the overrides of Pub/Sub and BigQuery, and what callers may see."""

from __future__ import annotations

import pytest
import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

from shared.adapters.gcp.errors import (
    BIGQUERY,
    CLOUD_BUILD,
    CLOUD_RUN,
    CLOUD_STORAGE,
    FIRESTORE,
    PUBSUB,
    SERVICES,
    GoogleService,
)
from shared.errors import (
    BackendAccessError,
    ConflictError,
    FarmError,
    InvalidInputError,
    NotFoundError,
    TransientError,
)

# What every service without an override makes of each kind of failure.
BASE = [
    (gexc.NotFound("gone"), NotFoundError),
    (gexc.AlreadyExists("dup"), ConflictError),
    (gexc.Aborted("contention"), ConflictError),
    (gexc.Conflict("etag"), ConflictError),
    (gexc.PreconditionFailed("generation"), ConflictError),
    (gexc.InvalidArgument("bad"), InvalidInputError),
    (gexc.FailedPrecondition("needs index"), InvalidInputError),
    (gexc.BadRequest("bad"), InvalidInputError),
    (gexc.PermissionDenied("no"), BackendAccessError),
    (gexc.Forbidden("rateLimitExceeded"), BackendAccessError),  # a 403 is a missing role, but on BigQuery
    (gexc.Unauthorized("who"), BackendAccessError),
    (auth_exc.RefreshError("disabled"), BackendAccessError),
    (auth_exc.DefaultCredentialsError("none"), BackendAccessError),
    (gexc.TooManyRequests("slow down"), TransientError),
    (gexc.ResourceExhausted("quota"), TransientError),
    (gexc.ServiceUnavailable("down"), TransientError),
    (gexc.DeadlineExceeded("slow"), TransientError),
    (gexc.InternalServerError("oops"), TransientError),
    (gexc.BadGateway("proxy"), TransientError),
    (gexc.Unknown("?"), TransientError),
    (gexc.RetryError("gave up", cause=None), TransientError),
    (auth_exc.TransportError("reset"), TransientError),
    (requests.ConnectionError("refused"), TransientError),
    (requests.Timeout("read timed out"), TransientError),
    (TimeoutError(), TransientError),
    (gexc.MethodNotImplemented("no"), FarmError),
    (gexc.DataLoss("lost"), FarmError),
    (gexc.Cancelled("cancelled"), FarmError),
]


def _translate(service: GoogleService, raised: BaseException, what: str = "get x/1") -> FarmError:
    with pytest.raises(FarmError) as caught, service.translated(what):
        raise raised
    assert caught.value.__cause__ is raised
    return caught.value


@pytest.mark.parametrize("service", [FIRESTORE, CLOUD_STORAGE, CLOUD_BUILD, CLOUD_RUN], ids=lambda s: s.name)
@pytest.mark.parametrize(("raised", "expected"), BASE,
                         ids=lambda v: type(v).__name__ if isinstance(v, Exception) else "")
def test_services_without_overrides_follow_the_table(
    service: GoogleService, raised: BaseException, expected: type[FarmError]
) -> None:
    assert type(_translate(service, raised)) is expected


def test_on_pub_sub_aborted_is_worth_a_retry_not_a_conflict() -> None:
    assert type(_translate(PUBSUB, gexc.Aborted("retry"))) is TransientError
    assert type(_translate(PUBSUB, gexc.AlreadyExists("topic"))) is ConflictError  # the rest is the table's


def test_on_bigquery_a_quota_or_rate_403_is_transient_and_a_missing_role_is_not() -> None:
    by_reason = gexc.Forbidden("Exceeded rate limits", errors=[{"reason": "rateLimitExceeded"}])
    assert type(_translate(BIGQUERY, by_reason)) is TransientError
    assert type(_translate(BIGQUERY, gexc.Forbidden("Quota exceeded: too many tables"))) is TransientError
    assert type(_translate(BIGQUERY, gexc.Forbidden("Access Denied: bigquery.tables.get"))) is BackendAccessError
    assert type(_translate(BIGQUERY, gexc.NotFound("Table t"))) is NotFoundError


def test_every_service_names_itself_and_the_operation() -> None:
    assert [s.name for s in SERVICES] == ["Firestore", "Pub/Sub", "BigQuery", "Cloud Storage", "Cloud Build",
                                          "Cloud Run"]
    for service in SERVICES:
        message = _translate(service, gexc.ServiceUnavailable("down"), what="read agents/a1").message
        assert message.startswith(f"{service.name} read agents/a1: ")


def test_not_found_and_conflicts_keep_google_s_text_out_of_what_callers_see() -> None:
    leaky = "No such object: farm-prod-artifacts/reports/r1.json"
    assert _translate(CLOUD_STORAGE, gexc.NotFound(leaky), "blob 'r1'").message == "Cloud Storage blob 'r1': not found"
    assert leaky not in _translate(CLOUD_STORAGE, gexc.PreconditionFailed(leaky)).message
    # A bad request's text is its reason (the column, the filter), and stays.
    assert "Unrecognized name: colse" in _translate(BIGQUERY, gexc.BadRequest("Unrecognized name: colse")).message


def test_platform_errors_and_foreign_exceptions_pass_through_unchanged() -> None:
    mine = NotFoundError("mine")
    with pytest.raises(NotFoundError) as caught, PUBSUB.translated("x"):
        raise mine
    assert caught.value is mine
    with pytest.raises(KeyError), BIGQUERY.translated("x"):
        raise KeyError("not a client error")
    assert FIRESTORE.error_for(ValueError("x"), "x") is None
