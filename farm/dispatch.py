"""Event delivery for the local host: Pub/Sub and Firestore triggers, as Eventarc does it.

A topic-triggered function gets a durable pull subscription `fn-<name>` (dead-letter topic,
5 attempts) and a thread that wraps each message in the `messagePublished` CloudEvent: ack on
success, nack on an exception so the bus redelivers and finally dead-letters it. A
document-triggered function gets a change feed on its collection, filtered by event kind.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from functions.registry import DocumentTrigger, FunctionSpec, TopicTrigger
from shared.events import encode_document_event, encode_pubsub_event
from shared.ports.documents import DocumentChange, DocumentStore
from shared.ports.messages import MessageBus, ReceivedMessage
from shared.schemas.topics import MAX_DELIVERY_ATTEMPTS, dead_letter

log = logging.getLogger(__name__)

EventFunction = Callable[[Any], Any]
PULL_WAIT_S = 0.25  # how long one pull waits for a message: bounds the stop latency
MAX_ACK_DEADLINE_S = 600.0  # Pub/Sub's ceiling


def subscription_name(spec: FunctionSpec) -> str:
    """The durable subscription that feeds a topic-triggered function."""
    return f"fn-{spec.name}"


class TopicDispatcher:
    """Pull a function's subscription and call it with each message as a CloudEvent."""

    def __init__(
        self, bus: MessageBus, spec: FunctionSpec, fn: EventFunction, *, project: str
    ) -> None:
        if not isinstance(spec.trigger, TopicTrigger):
            raise TypeError(f"{spec.name} is not triggered by a topic")
        self.bus, self.spec, self.fn, self.project = bus, spec, fn, project
        self.topic = spec.trigger.topic
        self.subscription = subscription_name(spec)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Create the subscription (kept across restarts) and start pulling."""
        self.bus.create_subscription(
            self.subscription,
            self.topic,
            # A message is leased for as long as the function may run, as Eventarc does.
            ack_deadline_s=min(float(self.spec.timeout_s), MAX_ACK_DEADLINE_S),
            dead_letter_topic=dead_letter(self.topic),
            max_delivery_attempts=MAX_DELIVERY_ATTEMPTS,
        )
        self._thread = threading.Thread(target=self._run, name=self.subscription, daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop pulling and wait for the message in hand to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self.bus.pull(self.subscription, max_messages=10, timeout_s=PULL_WAIT_S)
            except Exception:  # a broken bus must not kill the loop; retry shortly
                log.exception("pull from %s failed", self.subscription)
                self._stop.wait(1.0)
                continue
            for i, message in enumerate(messages):
                if self._stop.is_set():
                    # Hand the rest back now rather than after the ack deadline.
                    self.bus.nack(self.subscription, [m.ack_id for m in messages[i:]])
                    break
                self._deliver(message)

    def _deliver(self, message: ReceivedMessage) -> None:
        event = encode_pubsub_event(
            message, project=self.project, topic=self.topic, subscription=self.subscription
        )
        try:
            self.fn(event)
        except Exception:
            log.warning(
                "%s failed on message %s (attempt %d); it will be redelivered",
                self.spec.name,
                message.message_id,
                message.delivery_attempt,
                exc_info=True,
            )
            self.bus.nack(self.subscription, [message.ack_id])
        else:
            self.bus.ack(self.subscription, [message.ack_id])


class DocumentDispatcher:
    """Watch a collection and call a function with each matching change as a CloudEvent."""

    def __init__(
        self, documents: DocumentStore, spec: FunctionSpec, fn: EventFunction, *, project: str
    ) -> None:
        if not isinstance(spec.trigger, DocumentTrigger):
            raise TypeError(f"{spec.name} is not triggered by documents")
        self.documents, self.spec, self.fn, self.project = documents, spec, fn, project
        self.trigger: DocumentTrigger = spec.trigger
        self._attempts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._watch: Any = None

    def start(self) -> None:
        """Start watching the collection."""
        self._watch = self.documents.watch(self.trigger.collection, self._on_change)

    def stop(self) -> None:
        """Stop watching."""
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    def _on_change(self, change: DocumentChange) -> None:
        if self.trigger.event != "written" and change.kind != self.trigger.event:
            return
        event = encode_document_event(change, project=self.project, event=self.trigger.event)
        with self._lock:
            self._attempts[change.change_id] += 1
            attempt = self._attempts[change.change_id]
        try:
            self.fn(event)
        except Exception:
            if attempt < MAX_DELIVERY_ATTEMPTS:
                log.warning(
                    "%s failed on change %s (attempt %d); retrying",
                    self.spec.name,
                    change.change_id,
                    attempt,
                    exc_info=True,
                )
                raise  # the change feed delivers it again
            # Like a retrying Firestore trigger that runs out of attempts: log and drop.
            log.exception(
                "%s gave up on change %s after %d attempts",
                self.spec.name,
                change.change_id,
                attempt,
            )
        with self._lock:
            self._attempts.pop(change.change_id, None)
