"""The backtest conductor: deliver pre-encoded frames to the agent in lock step, relay its replies.

    python -m shared.harness.conductor --frames FILE --to-agent A --from-agent B --host-fd H

A small trusted process (never inside the sandbox) so the agent's round trip does not wait for
the host's interpreter: the host's backtrader run consumes the replies on the other core, one
step behind. The agent gets frame k+1 only after its whole reply to frame k has arrived, so it
never holds a future bar. Replies are forwarded unchanged (in small bursts: the host lags anyway)
for the host to check; the relay only enforces the framing and the size limit, and ends the run
on the first violation. Its loop is the round trip's cost, so it is kept to a few calls a step.
"""

from __future__ import annotations

import argparse
import mmap
import os
import sys
from collections.abc import Sequence

from shared.harness import wire

_STEP_PREFIX = b"\xa4step"  # msgpack of the kind "step", right after the array header
FORWARD_EVERY = 32  # replies per write to the host


def relay(frames: memoryview, to_agent: int, from_agent: int, host: int, max_message: int) -> str:
    """Run the exchange; return how it ended (for the host's log)."""
    header, read, write = wire.HEADER, os.read, os.write
    buffer = bytearray()
    pending: list[bytes] = []
    offset, total = 0, len(frames)
    how = "complete"
    ready = False  # until the agent is ready, every message goes to the host at once
    try:
        while offset < total:
            (size,) = header.unpack_from(frames, offset)
            end = offset + 4 + size
            try:
                write(to_agent, frames[offset:end])
            except BrokenPipeError:
                pass  # the agent stopped reading; what it sent before leaving is still to be read
            offset = end
            while True:  # one whole reply
                if len(buffer) >= 4:
                    (size,) = header.unpack_from(buffer)
                    if size > max_message:
                        pending.append(wire.pack([wire.ERROR, (f"the agent broke the channel protocol: message of "
                                                  f"{size} bytes is over the {max_message}-byte limit")]))
                        return "protocol"
                    if len(buffer) >= 4 + size:
                        break
                chunk = read(from_agent, 65536)
                if not chunk:
                    if buffer:
                        pending.append(wire.pack([wire.ERROR, ("the agent broke the channel protocol: "
                                                  "the channel closed in the middle of a message")]))
                    return "agent-exited"
                buffer += chunk
            message = bytes(buffer[:4 + size])
            del buffer[:4 + size]
            pending.append(message)
            if message[5:10] != _STEP_PREFIX:
                kind = wire.unpack(message[4:])[0]
                if kind != wire.READY:
                    return str(kind)
                ready = True
            if not ready or len(pending) >= FORWARD_EVERY or message[5:10] != _STEP_PREFIX:
                write(host, b"".join(pending))
                pending.clear()
        return how
    except wire.ProtocolError as exc:
        pending.append(wire.pack([wire.ERROR, f"the agent broke the channel protocol: {exc}"]))
        return "protocol"
    finally:
        if pending:
            write(host, b"".join(pending))


def main(argv: Sequence[str] | None = None) -> int:
    """Map the frames file and relay until the run ends."""
    parser = argparse.ArgumentParser(prog="python -m shared.harness.conductor", description=__doc__)
    parser.add_argument("--frames", required=True)
    parser.add_argument("--to-agent", type=int, required=True)
    parser.add_argument("--from-agent", type=int, required=True)
    parser.add_argument("--host-fd", type=int, required=True)
    args = parser.parse_args(argv)
    with open(args.frames, "rb") as source, mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as data:
        view = memoryview(data)
        try:
            how = relay(view, args.to_agent, args.from_agent, args.host_fd, wire.MAX_AGENT_MESSAGE)
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
