"""The platform's one error hierarchy.

Adapters translate client exceptions into these; the edges (HTTP functions, event handlers, the
CLI) map them to statuses or retry decisions in one place each.
"""

from __future__ import annotations

from typing import Any


class FarmError(Exception):
    """Base of every error the platform raises on purpose."""

    code = "internal"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class SettingsError(FarmError):
    """Configuration is missing, unknown or malformed."""

    code = "invalid_settings"


class InvalidInputError(FarmError):
    """The request itself is malformed (bad JSON, missing field, wrong type)."""

    code = "invalid_argument"


class ValidationFailedError(FarmError):
    """Well-formed input that breaks a rule (e.g. an agent that fails validation)."""

    code = "validation_failed"


class AuthenticationError(FarmError):
    """No credentials, or credentials that do not verify."""

    code = "unauthenticated"


class PermissionDeniedError(FarmError):
    """Verified caller without the right to act (e.g. a missing admin claim)."""

    code = "permission_denied"


class BackendAccessError(FarmError):
    """A cloud service refused the platform's own identity: a missing role or binding, or
    credentials that no longer refresh. A deployment problem, never the caller's: the HTTP edge
    answers 500 and logs the cause, so no service account or resource name reaches a user."""


class NotFoundError(FarmError):
    """The object does not exist, or belongs to someone else (never leak which)."""

    code = "not_found"


class ConflictError(FarmError):
    """The object already exists, or a concurrent write won."""

    code = "conflict"


class IllegalTransitionError(ConflictError):
    """A lifecycle change that the state machine does not allow."""

    code = "illegal_transition"


class PayloadTooLargeError(FarmError):
    """The upload is over a size limit."""

    code = "payload_too_large"


class UnsupportedMediaTypeError(FarmError):
    """The request body has a content type the route does not take."""

    code = "unsupported_media_type"


class RateLimitedError(FarmError):
    """Too many requests in the window; retry after `retry_after_s` seconds."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float, details: Any = None) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s


class TransientError(FarmError):
    """A dependency failed in a way worth retrying (timeouts, unavailability, lock contention)."""

    code = "unavailable"


class SandboxUnavailableError(FarmError):
    """The sandbox for untrusted code cannot start here: the run fails, it never runs unsandboxed."""

    code = "sandbox_unavailable"
