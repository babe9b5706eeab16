"""Test-only CloudEvent functions behind `event_endpoint`: they record what reaches them and raise
the platform error their message names, so a test can see what the edge drops and what it re-raises.
"""

from __future__ import annotations

from dataclasses import dataclass

import functions_framework

from functions.edge.events import document_change, event_endpoint, pubsub_message
from shared import errors
from shared.ports.documents import DocumentChange
from shared.schemas.messages import Message

RAISES: dict[str, Exception] = {
    "invalid": errors.InvalidInputError("bad field"),
    "rules": errors.ValidationFailedError("breaks a rule"),
    "missing": errors.NotFoundError("agent a1 not found"),
    "illegal": errors.IllegalTransitionError("stored -> trading"),
    "conflict": errors.ConflictError("a concurrent write won"),
    "transient": errors.TransientError("store unavailable, retry"),
    "backend": errors.BackendAccessError("a missing role"),
    "boom": RuntimeError("a bug"),
}
RECEIVED: list[object] = []


@dataclass(frozen=True, kw_only=True)
class SampleCommand(Message):
    """A command whose handler raises `RAISES[outcome]` (nothing for "ok")."""

    TOPIC = "sample-commands"
    outcome: str = "ok"


@functions_framework.cloud_event
@event_endpoint(pubsub_message(SampleCommand))
def sample_on_command(command: SampleCommand) -> None:
    """Record the command, then raise what it asks for."""
    RECEIVED.append(command)
    if command.outcome != "ok":
        raise RAISES[command.outcome]


@functions_framework.cloud_event
@event_endpoint(document_change("samples"))
def sample_on_sample_changed(change: DocumentChange) -> None:
    """Record the change."""
    RECEIVED.append(change)
