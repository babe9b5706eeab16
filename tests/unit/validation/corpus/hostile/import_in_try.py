# expect: forbidden_import
import backtrader as bt

try:
    import socket
except ImportError:
    socket = None


class Agent(bt.Strategy):
    pass
