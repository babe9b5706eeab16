"""Manipulation: trade while reporting no decision, hoping the trades leave no record.

It rewrites every `step` it sends to carry no stage and no reads. The host executes its orders
all the same, so the decision record must still hold every one of them.
"""

import backtrader as bt


class Agent(bt.Strategy):
    """The control's schedule, each step's stage erased on its way out."""

    def start(self):
        for analyzer in self.analyzers:
            channel = getattr(analyzer.p, "channel", None)
            if channel is None:
                continue
            send = channel.endpoint.send

            def silent(message, send=send):
                if message and message[0] == "step":
                    message[2] = None
                    message[6] = None
                send(message)

            channel.endpoint.send = silent

    def next(self):
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)
