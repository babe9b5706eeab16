# expect: forbidden_io
import backtrader as bt
import pandas as pd


class Agent(bt.Strategy):
    def start(self):
        pd.read_json("http://127.0.0.1:8080/api/agents")
