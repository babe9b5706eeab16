"""The untrusted side of the agent harness: `python -m shared.harness.agent_main --in 3 --out 4 --bundle DIR`.

Runs inside the sandbox (bubblewrap locally, a no-network container step or a gVisor pod on
Google Cloud) with nothing but the agent's bundle and a connected channel: no store, no
credential, no network. It loads the agent, runs backtrader bar by bar on the frames the host
sends, and reports each decision. Nothing it sends is believed without checks on the host side.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import backtrader as bt

from shared.backtest.bundle import load_agent, user_traceback
from shared.harness import wire
from shared.harness.agent_brokers import MirrorBroker
from shared.harness.agent_capture import DecisionCapture
from shared.harness.agent_feed import AgentChannel, make_feeds

MAX_ERROR_CHARS = 8000
TOKEN_ENV = "FARM_CHANNEL_TOKEN"


def run(endpoint: wire.Endpoint, bundle_dir: Path) -> int:
    """Serve one run over `endpoint`; 0 when the agent ran to the end, 1 when it failed."""
    hello = endpoint.receive()
    if hello is None or hello[0] != wire.HELLO or not isinstance(hello[1], dict):
        raise wire.ProtocolError("the host must start with hello")
    options = hello[1]
    try:
        agent = load_agent(bundle_dir)
    except Exception as exc:  # noqa: BLE001 - importing the agent's code may raise anything
        endpoint.send([wire.ERROR, user_traceback(exc, bundle_dir)[-MAX_ERROR_CHARS:]])
        return 1
    channel = AgentChannel(endpoint, list(options["symbols"]))
    # quicknotify off, as in any backtest: notify_order runs in the strategy's step, after its clock moves.
    cerebro = bt.Cerebro(stdstats=False, preload=False, runonce=False)
    for feed in make_feeds(channel, options["timeframe"]):
        cerebro.adddata(feed)
    if options.get("mode", "backtest") == "paper":
        from shared.harness.agent_proxy_broker import ProxyBroker

        cerebro.setbroker(ProxyBroker(channel))
    else:
        cerebro.setbroker(MirrorBroker(channel))
        cerebro.broker.setcash(float(options["cash"]))
        cerebro.broker.setcommission(commission=float(options["commission"]))
    cerebro.addstrategy(agent)
    # The capture says `ready` when it starts: after the strategy's __init__ has run, so an agent
    # that fails there fails before the host waits for its first bar.
    cerebro.addanalyzer(DecisionCapture, _name="fmel_capture", channel=channel)
    try:
        strategy = cerebro.run()[0]
    except wire.ProtocolError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the agent raises is its failure
        endpoint.send([wire.ERROR, user_traceback(exc, bundle_dir)[-MAX_ERROR_CHARS:]])
        return 1
    channel.finish(strategy.analyzers.fmel_capture.decisions)
    return 0


def connect(address: str, token: str, timeout_s: float = 60.0) -> socket.socket:
    """Connect to the host over TCP and present the session's channel token (not a credential:
    it only proves to the host that this is the pod it started)."""
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            sock = socket.create_connection((host, int(port)), timeout=5.0)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)  # the host may still be starting
    sock.settimeout(None)
    sock.sendall(wire.pack([wire.AUTH, token]))
    return sock


def receive_bundle(endpoint: wire.Endpoint, bundle_dir: Path) -> None:
    """Unpack the bundle the host sends right after `auth` (a pod of its own reads no store)."""
    message = endpoint.receive()
    if not message or message[0] != wire.BUNDLE or not isinstance(message[1], bytes):
        raise wire.ProtocolError("the host must send the bundle first")
    from shared.backtest.bundle import extract_bundle

    if bundle_dir.exists():  # a pod's emptyDir outlives a container restart: start clean
        for child in bundle_dir.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    extract_bundle(message[1], bundle_dir)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, connect the channel and serve the run."""
    parser = argparse.ArgumentParser(prog="python -m shared.harness.agent_main", description=__doc__)
    parser.add_argument("--in", dest="read_fd", type=int, help="the channel from the host (inherited fd)")
    parser.add_argument("--out", dest="write_fd", type=int, help="the channel to the host (inherited fd)")
    parser.add_argument("--in-path", type=Path, help="the channel from the host as a FIFO (Cloud Build)")
    parser.add_argument("--out-path", type=Path, help="the channel to the host as a FIFO (Cloud Build)")
    parser.add_argument("--connect", help="HOST:PORT of the runtime host (GKE: the agent is a pod of its own)")
    parser.add_argument("--bundle", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.connect:
        sock = connect(args.connect, os.environ.pop(TOKEN_ENV, ""))
        args.read_fd = args.write_fd = sock.detach()
    elif args.in_path is not None and args.out_path is not None:
        args.read_fd = os.open(args.in_path, os.O_RDONLY)  # the host opens its ends in this order
        args.write_fd = os.open(args.out_path, os.O_WRONLY)
    if args.read_fd is None or args.write_fd is None:
        parser.error("give --in/--out, --in-path/--out-path or --connect")
    # Locally two pipes rather than a socket: a pipe's round trip is about half a Unix socket's.
    endpoint = wire.Endpoint(args.read_fd, args.write_fd, max_message=wire.MAX_HOST_MESSAGE)
    try:
        if args.connect:
            receive_bundle(endpoint, args.bundle)
        return run(endpoint, args.bundle.resolve())
    except (wire.ProtocolError, OSError) as exc:
        print(f"agent harness: channel failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
