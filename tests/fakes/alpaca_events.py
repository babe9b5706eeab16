"""The Broker API's trade events as the fake Alpaca serves them: SSE at `/v1/events/trades`.

Like Alpaca's stream it carries the events of every account of the keys, one `data: {json}`
line each (`account_id`, `at`, `event_id`, `event`, the order, and for fills `price`, `qty`,
`position_qty`), with `: heartbeat` comment lines while idle.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.alpaca_state import now


class TradeEventsHub:
    """The open SSE connections and the events published to them."""

    def __init__(self, heartbeat_s: float = 0.5) -> None:
        self.heartbeat_s = heartbeat_s  # comment lines while idle, so readers notice a dead connection
        self.logins = 0
        self._queues: list[queue.Queue[str | None]] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    @property
    def listeners(self) -> int:
        """How many clients are connected."""
        with self._lock:
            return len(self._queues)

    def publish(self, account_id: str, data: dict[str, Any]) -> None:
        """Send one trade update of `account_id` to every connected client."""
        event = {"account_id": account_id, "at": now(), "event_id": next(self._ids), **data}
        line = "data: " + json.dumps(event)
        with self._lock:
            for listener in self._queues:
                listener.put(line)

    def close_all(self) -> None:
        """End every connection (clients see the stream end)."""
        with self._lock:
            for listener in self._queues:
                listener.put(None)
            self._queues.clear()

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        """Stream events to one client until it goes or its connection is closed here."""
        events: queue.Queue[str | None] = queue.Queue()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Connection", "close")  # the body ends when the connection does
        handler.end_headers()
        handler.close_connection = True
        with self._lock:
            self._queues.append(events)
            self.logins += 1
        try:
            line: str | None = ": heartbeat"
            while line is not None:
                handler.wfile.write((line + "\n\n").encode())
                handler.wfile.flush()
                try:
                    line = events.get(timeout=self.heartbeat_s)
                except queue.Empty:
                    line = ": heartbeat"
        except OSError:
            pass  # the client went away
        finally:
            with self._lock:
                if events in self._queues:
                    self._queues.remove(events)
