# expect: agent_not_strategy
import backtrader as bt


class Agent(bt.Indicator):
    lines = ('x',)
