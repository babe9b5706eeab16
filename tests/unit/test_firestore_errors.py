"""The Firestore adapter's translation of google.api_core exceptions into shared.errors (the base table:
shared.adapters.gcp.errors; the other services and their overrides: test_google_api_errors.py)."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc

from shared.adapters.gcp.errors import FIRESTORE
from shared.errors import (
    BackendAccessError,
    ConflictError,
    FarmError,
    InvalidInputError,
    NotFoundError,
    TransientError,
)


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (gexc.ServiceUnavailable("down"), TransientError),
        (gexc.DeadlineExceeded("slow"), TransientError),
        (gexc.ResourceExhausted("quota"), TransientError),
        (gexc.InternalServerError("oops"), TransientError),
        (gexc.AlreadyExists("dup"), ConflictError),
        (gexc.Aborted("contention"), ConflictError),
        (gexc.NotFound("gone"), NotFoundError),
        (gexc.InvalidArgument("bad"), InvalidInputError),
        (gexc.FailedPrecondition("needs index"), InvalidInputError),
        (gexc.PermissionDenied("no"), BackendAccessError),
        (gexc.Unauthenticated("expired"), BackendAccessError),
        (gexc.Unknown("?"), TransientError),
        (gexc.RetryError("gave up", cause=None), TransientError),
        (gexc.Cancelled("cancelled"), FarmError),
    ],
)
def test_client_exceptions_leave_as_platform_errors(raised: Exception, expected: type) -> None:
    with pytest.raises(expected) as caught, FIRESTORE.translated("get agents/a1"):
        raise raised
    assert caught.value.__cause__ is raised
    assert "agents/a1" in caught.value.message


def test_platform_errors_and_other_exceptions_pass_through_unchanged() -> None:
    with pytest.raises(NotFoundError, match="mine"), FIRESTORE.translated("x"):
        raise NotFoundError("mine")
    with pytest.raises(KeyError), FIRESTORE.translated("x"):
        raise KeyError("not a client error")
    assert not issubclass(KeyError, FarmError)
