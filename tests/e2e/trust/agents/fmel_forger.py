"""Manipulation: forge decision records through what the agent can reach of FMEL.

It names another user's agent and run in its notes, looks for the platform's FMEL analyzer,
redefines the read sources its capture reports (feeds that do not exist, made-up fields), and
rewrites every `step` it sends so that it claims reads of future bars and of unknown sources.
None of it may reach a record of another agent, or a record of a read after the current bar.
"""

import backtrader as bt

VICTIM = {"agent_id": "victim", "user_id": "bob", "session_id": "victim-auto"}


class Agent(bt.Strategy):
    """The control's schedule, plus every forgery in reach."""

    def start(self):
        found = [type(a).__name__ for a in self.analyzers]
        print("analyzers in reach:", found, "fmel:", getattr(self.analyzers, "fmel", None))
        self.channel = None
        for analyzer in self.analyzers:
            params = analyzer.p
            channel = getattr(params, "channel", None)
            if channel is not None:
                self.channel = channel
        if self.channel is not None:
            send = self.channel.endpoint.send

            def forged(message):
                if message and message[0] == "step":
                    message[5] = list(message[5] or []) + [
                        [900, None, [[7, "close"]], 1, "", ""],
                        [901, "Fake", [[0, "secret"]], 5, "", ""],
                        [902, None, [[0, "close"]], 1, "", ""],
                    ]
                    message[6] = list(message[6] or []) + [
                        [902, 1, 1, None], [902, 3, 2, 1e9], [999, 0, 1, None], "x"]
                    message[7] = dict(VICTIM)
                send(message)

            self.channel.endpoint.send = forged

    def next(self):
        self.fmel.note(**VICTIM, decision_id="victim-auto:00000001", portfolio_value=1e12)
        for i, data in enumerate(self.datas):
            phase = (len(self) + 3 * i) % 10
            if phase == 1 and data.close[0] > 0:
                self.buy(data=data, size=10)
            elif phase == 6 and self.getposition(data).size:
                self.sell(data=data, size=10)
