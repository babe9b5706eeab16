"""Firestore trigger: `agents/{id}` created -> the automatic first backtest on backtest-requests.

A malformed event or agent document is permanent: logged and acknowledged by the edge. Store
or bus failures raise, so the platform delivers the event again; the service is idempotent.
"""

from __future__ import annotations

import functions_framework

from functions import _platform
from functions.edge.events import document_change, event_endpoint
from shared.errors import InvalidInputError
from shared.ports.documents import DocumentChange
from shared.schemas.collections import AGENTS
from shared.services.auto_backtest import request_auto_backtest

NAME = "farm-on-agent-created"


@functions_framework.cloud_event
@event_endpoint(document_change(AGENTS))
def on_agent_created(change: DocumentChange) -> None:
    """Queue and publish the new agent's default backtest (once per agent)."""
    if change.after is None:
        raise InvalidInputError(f"not an agent creation: {change.collection}/{change.doc_id}")
    platform = _platform.platform()
    request_auto_backtest(change.doc_id, change.after, documents=platform.documents, messages=platform.messages)
