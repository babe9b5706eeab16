# expect: module_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def start(self):
        bt.multiprocessing.Process(target=print).start()
