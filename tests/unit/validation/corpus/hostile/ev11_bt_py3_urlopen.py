# expect: module_attribute
import backtrader as bt


class Agent(bt.Strategy):
    def stop(self):
        bt.utils.py3.urlopen("http://127.0.0.1:8080/").read()
