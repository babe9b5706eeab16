"""Backtrader's bundled SMA crossover, parameters tuned (after samples/sigsmacross)."""
import backtrader as bt


class Agent(bt.strategies.SMA_CrossOver):
    params = (("fast", 12), ("slow", 40))
