"""`python -m runtime --session-id ID`: run one paper-trading session until SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from runtime.app import AgentRuntime, RuntimeOptions
from runtime.supervisor import watch_supervisor
from shared.app import Application
from shared.errors import FarmError


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the application, run the session; exit 0 on a graceful stop."""
    parser = argparse.ArgumentParser(prog="runtime", description=__doc__)
    parser.add_argument("--session-id", required=True)
    parser.add_argument("--health-port", type=int, default=0, help="0: any free port")
    parser.add_argument("--heartbeat-s", type=float, default=2.0)
    parser.add_argument("--flush-s", type=float, default=2.0)
    parser.add_argument("--slippage", type=float, default=0.0005)
    parser.add_argument("--commission", type=float, default=0.0)
    parser.add_argument("--agent-port", type=int, default=None,
                        help="GKE: wait on this port for the session's agent pod instead of starting a sandbox")
    parser.add_argument("--agent-token-file", type=Path, default=None,
                        help="GKE: the session's channel token (a file from its Secret)")
    parser.add_argument("--supervisor-pid", type=int, default=None,
                        help="stop gracefully when this parent process is gone (the local orchestrator)")
    args = parser.parse_args(argv)
    # Handlers first: a SIGTERM that arrives while the platform is still loading must still
    # end in a graceful stop, not the default instant death.
    stop_requested: list[AgentRuntime] = []
    early: list[bool] = []

    def on_signal(*_: object) -> None:
        if stop_requested:
            stop_requested[0].request_stop()
        early.append(True)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s runtime: %(message)s")
    options = RuntimeOptions(health_port=args.health_port, heartbeat_s=args.heartbeat_s, flush_s=args.flush_s,
                             slippage=args.slippage, commission=args.commission)
    app: Application | None = None
    try:
        app = Application()  # reads the settings; every port is built on first use
        launcher = None
        if args.agent_port is not None:
            if args.agent_token_file is None:
                parser.error("--agent-port needs --agent-token-file")
            from shared.harness.tcp import TcpAgentLauncher

            launcher = TcpAgentLauncher.from_token_file(args.agent_port, args.agent_token_file)
        runtime = AgentRuntime(app, args.session_id, options, launcher=launcher)
    except FarmError as exc:
        if app is not None:
            app.close()
        print(f"runtime: {exc.message}", file=sys.stderr)
        return 2
    stop_requested.append(runtime)
    if early:
        runtime.request_stop()
    if args.supervisor_pid is not None:
        watch_supervisor(args.supervisor_pid, runtime.request_stop)
    with app:  # the stores close after the session has flushed into them
        code = runtime.run()
    print(json.dumps({"event": "runtime_stopped", "session_id": args.session_id, **runtime.summary}), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
