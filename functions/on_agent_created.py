"""Firestore trigger: `agents/{id}` created -> the automatic first backtest on backtest-requests.

A malformed event or agent document is permanent: logged and acknowledged (returning). Store
or bus failures raise, so the platform delivers the event again; the service is idempotent.
"""

from __future__ import annotations

import logging

import functions_framework
from cloudevents.http import CloudEvent

from functions import _platform
from shared.errors import InvalidInputError
from shared.events import decode_document_event
from shared.schemas.collections import AGENTS
from shared.services.auto_backtest import request_auto_backtest

NAME = "farm-on-agent-created"
log = logging.getLogger(__name__)


@functions_framework.cloud_event
def on_agent_created(event: CloudEvent) -> None:
    """Queue and publish the new agent's default backtest (once per agent)."""
    try:
        change = decode_document_event(event)
        if change.collection != AGENTS or change.after is None:
            raise InvalidInputError(f"not an agent creation: {change.collection}/{change.doc_id}")
        platform = _platform.platform()
        request_auto_backtest(
            change.doc_id, change.after, documents=platform.documents, messages=platform.messages
        )
    except InvalidInputError as exc:
        log.error("dropping event %s: %s", event["id"], exc.message)
