"""Trade updates of one Broker API account, from the Broker API's SSE stream `/v1/events/trades`.

The stream is plain HTTP: a long GET answered with `text/event-stream`, one `data: {json}`
line per event (`{"account_id", "event", "event_id", "order": {...}, ...}`) and `:` comment
lines as heartbeats. It carries every account of the Broker API keys, so events of other
accounts are dropped here. alpaca-py's `BrokerClient.get_trade_events` reads the same stream
but blocks with no way to stop it; this reader uses a read timeout (a silent connection is
dead) and a closable response, and reconnects with backoff. Events missed while it is down are
caught up by the broker's polling of its open orders, which runs fast while `connected` is False.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

import requests
import urllib3

from shared.venues.alpaca.config import BrokerApiConfig

log = logging.getLogger(__name__)
TRADE_EVENTS_PATH = "/v1/events/trades"


class TradeEventStream:
    """Read one account's trade events on a daemon thread and hand each one to `on_event`."""

    def __init__(self, config: BrokerApiConfig, account_id: str, on_event: Callable[[dict[str, Any]], None], *,
                 read_timeout_s: float = 60.0, backoff_cap_s: float = 30.0) -> None:
        self.config, self.account_id, self.on_event = config, account_id, on_event
        self.read_timeout_s, self.backoff_cap_s = read_timeout_s, backoff_cap_s
        self.connected = False
        self._stop = threading.Event()
        self._response: requests.Response | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Connect in the background (returns at once)."""
        self._thread = threading.Thread(target=self._run, name=f"alpaca-trade-events-{self.account_id[:8]}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Close the connection and wait for the thread; idempotent."""
        self._stop.set()
        response = self._response
        if response is not None:
            response.close()  # wakes the reader blocked on the socket
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._read_once()  # returns when the server ends the stream
                failures = 0
            except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
                failures = 0  # silent for a whole read timeout (an idle account, or a dead link): reconnect
                log.debug("trade events of %s: silent for %.0f s, reconnecting", self.account_id,
                          self.read_timeout_s)
            except Exception as exc:  # noqa: BLE001 - HTTP, network, closed response, bad JSON: go on
                if self._stop.is_set():
                    break
                failures += 1
                log.warning("trade events of %s: %s (attempt %d)", self.account_id, type(exc).__name__, failures)
            self.connected = False
            delay = min(self.backoff_cap_s, 0.5 * 2 ** min(failures, 10)) * random.uniform(0.5, 1.0)
            self._stop.wait(delay if failures else 0.1)

    def _read_once(self) -> None:
        key = self.config.credentials
        token = base64.b64encode(f"{key.key_id}:{key.secret_key}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        with requests.get(self.config.base_url + TRADE_EVENTS_PATH, headers=headers, stream=True,
                          timeout=(10, self.read_timeout_s)) as response:
            self._response = response
            response.raise_for_status()
            self.connected = True
            for line in _lines(response):
                if self._stop.is_set():
                    return
                if line.startswith("data:"):
                    self._deliver(json.loads(line[5:]))
        # The server ended the stream: reconnect after the usual short pause.

    def _deliver(self, event: Any) -> None:
        if not isinstance(event, dict) or event.get("account_id") != self.account_id or "order" not in event:
            return  # another account's event (the stream carries all of them), or not an order event
        try:
            self.on_event(event)
        except Exception:  # one bad event must not end the stream
            log.exception("trade event %s of %s could not be handled", event.get("event_id"), self.account_id)


def _lines(response: requests.Response) -> Iterator[str]:
    """The lines of a streamed body as soon as each arrives.

    `iter_lines` waits for a full chunk (512 bytes) before it yields, which would hold a short
    event back until later traffic pushed it through; `read1` returns whatever has arrived.
    """
    pending = b""
    while chunk := response.raw.read1(65536):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            yield raw.rstrip(b"\r").decode()
