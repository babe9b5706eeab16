"""A scripted agent speaking the harness's wire protocol, for the host's protocol tests.

    python -m tests.unit.harness.fake_agent --in FD --out FD --scenario NAME

It imports nothing but the wire module (no backtrader): every scenario answers the host's frames
by hand, honestly (`honest`: buy 10 AAA on the first bar, sell them on the sixth) or breaking one
rule of the channel. The host must drop and count what cannot be true, or fail the run cleanly.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from shared.harness import wire

Reply = Callable[[int], list[Any]]
BUY, SELL, MARKET = 0, 1, 0
SOURCES = [[0, None, [[0, "close"]], 1, "", ""]]  # source 0: AAA's close


def order(ref: int, side: int = BUY, size: Any = 10.0, **fields: Any) -> list[Any]:
    """An order message as the agent's broker reports it (`agent_brokers.order_message`)."""
    values = {
        "index": 0,
        "price": None,
        "plimit": None,
        "exectype": MARKET,
        "valid": None,
        "tradeid": 0,
        "parent": None,
        "transmit": True,
        "oco": None,
        "trailamount": None,
        "trailpercent": None,
    } | fields
    return [
        ref,
        side,
        values["index"],
        size,
        values["price"],
        values["plimit"],
        values["exectype"],
        values["valid"],
        values["tradeid"],
        values["parent"],
        values["transmit"],
        values["oco"],
        values["trailamount"],
        values["trailpercent"],
    ]


def step(
    k: int,
    *,
    stage: Any = "next",
    orders: Any = (),
    cancels: Any = (),
    sources: Any = None,
    reads: Any = None,
    note: Any = None,
) -> list[Any]:
    """A `step` reply for frame `k`."""
    if sources is None:
        sources = SOURCES if k == 0 else []
    if reads is None:
        reads = [[0, 0, 1, None]]
    return [wire.STEP, k, stage, list(orders), list(cancels), sources, reads, note]


def honest_orders(k: int) -> list[list[Any]]:
    """The honest scenario's orders: buy 10 AAA on frame 0, sell them on frame 5."""
    return [order(1)] if k == 0 else [order(2, SELL)] if k == 5 else []


BAD_ORDERS = [
    order(100, size=-5.0),
    order(101, size=math.nan),
    order(102, size=math.inf),
    order(103, size=1e13),
    order(104, size=0.0),
    order(105, side=2),
    order(106, index=5),
    order(107, index=-1),
    order(108, exectype=7),
    order(109, exectype=99),
    order("110"),
    order(1),  # ref taken by the honest buy
    order(111, parent=4242),
    order(112, oco=4242),
    order(113, price="100"),
    order(114, price=math.nan),
    order(115, valid=math.inf),
    order(116, tradeid="t"),
    order(117, size="10"),
    [118, 0, 0],
    None,
    "buy everything",
    order(119, trailpercent=math.inf),
    order(120, size=True),
]


def _bad_orders(k: int) -> list[Any]:
    return honest_orders(k) + (BAD_ORDERS if k == 0 else [])


SCENARIOS: dict[str, Reply] = {
    "honest": lambda k: [step(k, orders=honest_orders(k))],
    "bad_orders": lambda k: [step(k, orders=_bad_orders(k))],
    "unknown_cancels": lambda k: [
        step(k, orders=honest_orders(k), cancels=[999, "1", None, 1.5] if k == 1 else [])
    ],
    "too_many_orders": lambda k: [
        step(k, orders=[order(1000 + i, size=1.0) for i in range(300)] if k == 0 else [])
    ],
    "future_reads": lambda k: [
        step(
            k,
            orders=honest_orders(k),
            reads=[[0, 0, 1, None], [0, 1, 1, None], [0, 5, 1, 1e9], [0, -1, 2, None]],
        )
    ],
    "bad_sources": lambda k: [
        step(
            k,
            orders=honest_orders(k),
            sources=[
                [1, None, [[9, "close"]], 1, "", ""],
                [2, None, [[0, "secret"]], 1, "", ""],
                [3, "Ind", [], 5, "", ""],
                [4, 17, [[0, "close"]], 5, "", ""],
                [5, "Ind", [[0, "close"]], 0, "", ""],
                [6, "Ind", [[0, "close"]], 10**9, "", ""],
                "nonsense",
                [7],
                None,
                [0, "Evil", [[1, "close"]], 3, "", ""],
            ]
            if k == 0
            else [],
            reads=[
                [1, 0, 1, None],
                [2, 0, 1, None],
                [77, 0, 1, None],
                "x",
                [0, 0],
                [0, "0", 1, None],
                [0, 0, 0, None],
            ],
        )
    ],
    "note_forgery": lambda k: [
        step(
            k,
            orders=honest_orders(k),
            note={
                "agent_id": "victim",
                "user_id": "bob",
                "session_id": "victim-auto",
                "long": "x" * 10_000,
                "nested": {"a": 1},
                **{f"k{i}": i for i in range(40)},
            },
        )
    ],
    "stage_lies": lambda k: [
        step(k, orders=honest_orders(k), stage="bogus" if k in (0, 5) else "next")
    ],
    "out_of_step": lambda k: [step(k + 1 if k == 3 else k)],
    "twice": lambda k: [step(k), step(k)] if k == 2 else [step(k)],
    "wrong_length": lambda k: [step(k)[:5] if k == 2 else step(k)],
    "unexpected_kind": lambda k: [[wire.BARS, k, 0.0, [], None, None] if k == 2 else step(k)],
    "not_an_array": lambda k: [{"step": k} if k == 2 else step(k)],
    "malformed": lambda k: [b"\xc1\xc1\xc1" if k == 2 else step(k)],
    "error_not_text": lambda k: [[wire.ERROR, 123] if k == 2 else step(k)],
    "huge_error": lambda k: [
        [wire.ERROR, "Traceback: " + "x" * 900_000 + " THE END"] if k == 2 else step(k)
    ],
    "done_early": lambda k: (
        [step(k, orders=[order(1)] if k == 0 else []), [wire.DONE, 3]]
        if k == 2
        else [step(k, orders=[order(1)] if k == 0 else [])]
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Answer the host according to `--scenario` (some scenarios end or misbehave on their own)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--in", dest="read_fd", type=int, required=True)
    parser.add_argument("--out", dest="write_fd", type=int, required=True)
    parser.add_argument("--scenario", required=True)
    args = parser.parse_args(argv)
    endpoint = wire.Endpoint(args.read_fd, args.write_fd, max_message=wire.MAX_HOST_MESSAGE)
    name = args.scenario
    hello = endpoint.receive()
    assert hello is not None and hello[0] == wire.HELLO, hello
    if name == "exit_before_ready":
        return 0
    if name == "step_before_ready":
        endpoint.send(step(0))
        return _linger()
    endpoint.send([wire.READY])
    reply = SCENARIOS.get(name, SCENARIOS["honest"])
    k = 0
    while (message := endpoint.receive()) is not None and message[0] == wire.BARS:
        assert message[1] == k, message[:2]
        if name == "oversized" and k == 2:
            endpoint.send_raw(wire.HEADER.pack(wire.MAX_AGENT_MESSAGE + 1) + b"\x90" * 1024)
            return _linger()
        if name == "truncated" and k == 2:
            endpoint.send_raw(wire.HEADER.pack(100) + b"\x98\xa4step")
            return 0
        if name == "exit_mid_run" and k == 2:
            return 3
        for out in reply(k):
            endpoint.send_raw(
                wire.HEADER.pack(len(out)) + out if isinstance(out, bytes) else wire.pack(out)
            )
        if name == "done_early" and k == 2:
            return 0
        k += 1
    endpoint.send([wire.DONE, k])
    return 0


def _linger() -> int:
    """Stay alive, channel open, until the host ends this process (it must, and soon)."""
    time.sleep(120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
