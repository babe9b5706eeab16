"""A local fake of Alpaca speaking its real wire formats, on 127.0.0.1 free ports.

- Trading API (paper) REST under `/v2`: orders (with client_order_id; by id; by client id;
  cancel), account, positions; `APCA-API-KEY-ID`/`APCA-API-SECRET-KEY` headers.
- Broker API (sandbox) REST under `/v1`: accounts, ACH relationships and transfers (funding),
  and the per-account trading endpoints `/v1/trading/accounts/{id}/account|positions|orders...`
  (orders by id, by client id, cancel), with HTTP Basic auth, enough for alpaca-py's BrokerClient.
- The trade-updates WebSocket of the paper account (JSON): authenticate -> authorized, listen
  trade_updates, then events new / partial_fill / fill / canceled / rejected carrying the order.
- The Broker API's trade events, SSE at `/v1/events/trades`: `data: {json}` lines carrying
  `account_id`, `event_id`, `event` and the order, for every account of the keys (as Alpaca's
  stream does), and `: heartbeat` comment lines while idle.

Behaviour is scripted: `script(symbol, Step(...), ...)` makes the next order for `symbol`
partially fill, fill, cancel or reject (each step after its delay), and `ledger.market_prices`
fills every other market order of a symbol at once at its price; `latency_s` delays every
REST answer; `drop_order_responses` loses answers to placed orders; `drop_stream()` closes
every stream connection and `refuse_stream` keeps new ones
out, to exercise polling. Only Alpaca's servers are fake: clients run unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.fakes.alpaca_accounts import accounts_route
from tests.fakes.alpaca_events import TradeEventsHub
from tests.fakes.alpaca_state import AlpacaApiError, Event, Ledger, Step

PAPER_ACCOUNT = "904837e3-3b76-47ec-b432-046db621571b"  # the key's own account


class FakeAlpaca:
    """Trading REST + Broker REST + trade-updates stream; use as a context manager."""

    def __init__(self, key_id: str = "PKTEST", secret_key: str = "fake-secret", cash: float = 100_000.0) -> None:
        self.key_id, self.secret_key = key_id, secret_key
        self.ledger = Ledger(self._emit)
        self.paper = self.ledger.open_account(cash, PAPER_ACCOUNT)
        self.latency_s = 0.0
        self.refuse_stream = False
        self.drop_order_responses = 0  # place the next N orders but lose their HTTP answers
        self.requests: list[tuple[str, str]] = []  # (method, path) of every REST call
        self.stream_logins = 0
        self.trade_events = TradeEventsHub()  # the Broker API's SSE stream
        self._listeners: set[ServerConnection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ws_server: Server | None = None
        self._http: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # --- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        ready = threading.Event()
        self._threads = [
            threading.Thread(target=self._http.serve_forever, name="fake-alpaca-rest", daemon=True),
            threading.Thread(target=self._run_stream, args=(ready,), name="fake-alpaca-ws", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Alpaca stream did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._http and self._loop
        self.trade_events.close_all()
        self._http.shutdown()
        self._http.server_close()
        self._loop.call_soon_threadsafe(self._stop_event.set)
        for thread in self._threads:
            thread.join(10)

    @property
    def url(self) -> str:
        """Base URL of both REST APIs (alpaca-py appends /v2 or /v1)."""
        assert self._http
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def stream_url(self) -> str:
        """The trade-updates WebSocket URL."""
        return f"ws://127.0.0.1:{self._ws_port}/stream"

    # --- scripting --------------------------------------------------------------------------

    def script(self, symbol: str, *steps: Step) -> None:
        """Make the next order for `symbol` go through `steps` after it is accepted."""
        with self.ledger.lock:
            self.ledger.scripts[symbol] = list(steps)

    def act(self, order_id: str, step: Step, account_id: str = PAPER_ACCOUNT) -> None:
        """Make `step` happen to an existing order now."""
        self.ledger.apply(account_id, order_id, step)

    def drop_stream(self) -> None:
        """Close every trade-updates connection, WebSocket and SSE (clients see the connection drop)."""
        assert self._loop
        asyncio.run_coroutine_threadsafe(self._close_listeners(), self._loop).result(5)
        self.trade_events.close_all()

    @property
    def listeners(self) -> int:
        """How many connections listen to trade updates (WebSocket trade_updates and SSE trade events)."""
        return len(self._listeners) + self.trade_events.listeners

    def _run_steps(self, account_id: str, order_id: str, steps: list[Step]) -> None:
        for step in steps:
            time.sleep(step.delay_s)
            self.ledger.apply(account_id, order_id, step)

    # --- trade-updates stream ---------------------------------------------------------------

    def _run_stream(self, ready: threading.Event) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            async with serve(self._serve_ws, "127.0.0.1", 0) as server:
                self._ws_server = server
                self._ws_port = next(iter(server.sockets)).getsockname()[1]
                ready.set()
                await self._stop_event.wait()
                await self._close_listeners()

        asyncio.run(main())

    async def _serve_ws(self, ws: ServerConnection) -> None:
        if self.refuse_stream:
            await ws.close(1013, "try again later")
            return
        try:
            async for raw in ws:
                msg = json.loads(raw)
                data = msg.get("data") or {}
                if msg.get("action") == "authenticate":
                    ok = data.get("key_id") == self.key_id and data.get("secret_key") == self.secret_key
                    status = "authorized" if ok else "unauthorized"
                    reply: dict[str, Any] = {"stream": "authorization",
                                             "data": {"status": status, "action": "authenticate"}}
                    await ws.send(json.dumps(reply))
                    if not ok:
                        await ws.close(1008, "unauthorized")
                        return
                    self.stream_logins += 1
                elif msg.get("action") == "listen":
                    streams = list(data.get("streams", []))
                    if "trade_updates" in streams:
                        self._listeners.add(ws)
                    await ws.send(json.dumps({"stream": "listening", "data": {"streams": streams}}))
        except ConnectionClosed:
            pass
        finally:
            self._listeners.discard(ws)

    async def _close_listeners(self) -> None:
        for ws in list(self._listeners):
            await ws.close(1011, "dropped by the fake")
        self._listeners.clear()

    def _emit(self, account_id: str, data: Event) -> None:
        # Every account's events go to the Broker API's SSE stream; the paper account's to the WebSocket too.
        self.trade_events.publish(account_id, data)
        if account_id != PAPER_ACCOUNT or self._loop is None:
            return
        text = json.dumps({"stream": "trade_updates", "data": data})
        loop = self._loop
        loop.call_soon_threadsafe(lambda: loop.create_task(self._broadcast(text)))

    async def _broadcast(self, text: str) -> None:
        for ws in list(self._listeners):
            try:
                await ws.send(text)
            except ConnectionClosed:
                self._listeners.discard(ws)

    # --- REST -------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        """Answer one REST call: (status, JSON body or None)."""
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["v2"]:
            return self._trading(method, PAPER_ACCOUNT, parts[1:], query, body)
        if parts[:3] == ["v1", "trading", "accounts"] and len(parts) >= 5:
            return self._trading(method, parts[3], parts[4:], query, body)
        if parts[:1] == ["v1"]:
            return accounts_route(self.ledger, method, parts[1:], body)
        raise AlpacaApiError(404, 40410000, "endpoint not found")

    def _trading(
        self, method: str, account_id: str, parts: list[str], query: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        ledger = self.ledger
        route = (method, parts[0] if parts else "", len(parts))
        if route == ("GET", "account", 1):
            return 200, ledger.account(account_id).trade_account()
        if route == ("GET", "positions", 1):
            return 200, ledger.account(account_id).position_list()
        if route == ("POST", "orders", 1):
            order, steps = ledger.submit(account_id, body)
            if steps:
                threading.Thread(target=self._run_steps, args=(account_id, order["id"], steps), daemon=True).start()
            return 200, order
        if route == ("GET", "orders", 1):
            return 200, ledger.list_orders(account_id, query.get("status", "open"))
        if route == ("GET", "orders:by_client_order_id", 1):
            return 200, ledger.find_by_client_id(account_id, query.get("client_order_id", ""))
        if route == ("GET", "orders", 2):
            return 200, ledger.find(account_id, parts[1])
        if route == ("DELETE", "orders", 2):
            order = ledger.find(account_id, parts[1])
            if order["status"] in ("filled", "canceled", "rejected", "expired"):
                raise AlpacaApiError(422, 42210000, f"order is already in \"{order['status']}\" state")
            ledger.apply(account_id, parts[1], Step("cancel"))
            return 204, None
        raise AlpacaApiError(404, 40410000, "endpoint not found")

    def authorized(self, headers: Any, path: str) -> bool:
        """Whether the request carries this fake's keys in the form its API expects."""
        if path.startswith("/v1/"):
            expected = base64.b64encode(f"{self.key_id}:{self.secret_key}".encode()).decode()
            return headers.get("Authorization") == f"Basic {expected}"
        return headers.get("APCA-API-KEY-ID") == self.key_id and headers.get("APCA-API-SECRET-KEY") == self.secret_key


def _handler_for(fake: FakeAlpaca) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            url = urlparse(self.path)
            fake.requests.append((self.command, url.path))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            time.sleep(fake.latency_s)
            try:
                if not fake.authorized(self.headers, url.path):
                    raise AlpacaApiError(401, 40110000, "request is not authorized")
                if (self.command, url.path) == ("GET", "/v1/events/trades"):
                    if fake.refuse_stream:
                        raise AlpacaApiError(503, 50300000, "try again later")
                    return fake.trade_events.serve(self)
                body = json.loads(raw) if raw else {}
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                status, payload = fake.handle(self.command, url.path, query, body)
            except AlpacaApiError as exc:
                status, payload = exc.status, {"code": exc.code, "message": exc.message}
            if self.command == "POST" and url.path.endswith("/orders") and fake.drop_order_responses > 0:
                fake.drop_order_responses -= 1
                self.close_connection = True  # the order exists; the client sees a dropped connection
                return
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
