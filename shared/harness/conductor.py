"""The backtest conductor: deliver pre-encoded frames to the agent in lock step, relay its replies.

    python -m shared.harness.conductor --frames FILE --to-agent A --from-agent B --host-fd H

A small trusted process (never inside the sandbox) so the agent's round trip does not wait for
the host's interpreter: the host's backtrader run consumes the replies on the other core, one
step behind. The agent gets frame k+1 only after its reply to frame k, so it never holds a
future bar. Everything the agent sends is forwarded unchanged for the host to check; the relay
only enforces the framing and size limit, and ends the run on the first violation.
"""

from __future__ import annotations

import argparse
import mmap
import os
import sys
from collections.abc import Sequence

from shared.harness import wire

_STEP_PREFIX = b"\xa4step"  # msgpack of the kind "step", right after the array header


def relay(frames: memoryview, agent: wire.Endpoint, host: wire.Endpoint) -> str:
    """Run the exchange; return how it ended (for the host's log)."""
    offset = 0
    header = wire.HEADER
    while offset < len(frames):
        (size,) = header.unpack_from(frames, offset)
        end = offset + header.size + size
        try:
            agent.send_raw(frames[offset:end])
        except BrokenPipeError:
            pass  # the agent stopped reading; what it sent before leaving is still to be read
        offset = end
        try:
            body = agent.receive_raw()
        except wire.ProtocolError as exc:
            host.send([wire.ERROR, f"the agent broke the channel protocol: {exc}"])
            return "protocol"
        if body is None:
            return "agent-exited"
        host.send_raw(header.pack(len(body)) + body)
        if body[1:6] != _STEP_PREFIX and wire.unpack(body)[0] != wire.READY:
            return str(wire.unpack(body)[0])
    return "complete"


def main(argv: Sequence[str] | None = None) -> int:
    """Map the frames file and relay until the run ends."""
    parser = argparse.ArgumentParser(prog="python -m shared.harness.conductor", description=__doc__)
    parser.add_argument("--frames", required=True)
    parser.add_argument("--to-agent", type=int, required=True)
    parser.add_argument("--from-agent", type=int, required=True)
    parser.add_argument("--host-fd", type=int, required=True)
    args = parser.parse_args(argv)
    agent = wire.Endpoint(args.from_agent, args.to_agent, max_message=wire.MAX_AGENT_MESSAGE)
    host = wire.Endpoint(-1, args.host_fd, max_message=0)
    with open(args.frames, "rb") as source, mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as data:
        view = memoryview(data)
        try:
            how = relay(view, agent, host)
        except wire.ProtocolError as exc:
            how = f"protocol: {exc}"
        except OSError as exc:  # the host went away (its run failed): nothing more to relay
            how = f"stopped: {exc}"
        finally:
            view.release()
    for fd in {args.to_agent, args.from_agent, args.host_fd}:  # over TCP one socket is both ends
        os.close(fd)
    print(f"conductor: {how}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
